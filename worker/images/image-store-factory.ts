import type { SectionConfig } from "../../shared/config/parse-config.ts";
import { ConfigError } from "../../shared/config/parse-config.ts";
import type { ImageStore } from "./image-store.ts";
import { createLocalImageStore } from "./local-image-store.ts";
import { createS3ImageStore } from "./s3-image-store.ts";

/** IMAGE_STORE picks the folder (local) or an S3-compatible bucket (production). */
export function createImageStore(worker: SectionConfig<"worker">): ImageStore {
  if (worker.imageStore === "local") return createLocalImageStore(worker.imageDir);
  const missing = (
    [
      ["S3_BUCKET", worker.s3Bucket],
      ["S3_ACCESS_KEY_ID", worker.s3AccessKeyId],
      ["S3_SECRET_ACCESS_KEY", worker.s3SecretAccessKey],
    ] as const
  ).filter(([, value]) => !value);
  if (missing.length) throw new ConfigError(missing.map(([name]) => `${name} is required when IMAGE_STORE=s3`));
  return createS3ImageStore({
    bucket: worker.s3Bucket,
    endpoint: worker.s3Endpoint || undefined,
    region: worker.s3Region,
    accessKeyId: worker.s3AccessKeyId,
    secretAccessKey: worker.s3SecretAccessKey,
  });
}
