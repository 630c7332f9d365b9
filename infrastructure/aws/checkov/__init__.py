# Pixel Studio's own checkov checks, loaded with --external-checks-dir (see template-checks.ts).
