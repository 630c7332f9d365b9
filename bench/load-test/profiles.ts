/**
 * Load shapes: the submit rate (per second) at each second of a run, scaled by the base rate.
 * steady holds it; ramp climbs from a tenth to twice it; spike holds a quarter and jumps to three
 * times it for the middle tenth; soak holds half of it for a long time.
 */
export const PROFILES = {
  steady: { defaultSeconds: 60, rate: (_t: number, _d: number, r: number) => r },
  ramp: { defaultSeconds: 120, rate: (t: number, d: number, r: number) => r * (0.1 + (1.9 * t) / d) },
  spike: {
    defaultSeconds: 90,
    rate: (t: number, d: number, r: number) => (t >= 0.45 * d && t < 0.55 * d ? 3 * r : r / 4),
  },
  soak: { defaultSeconds: 1800, rate: (_t: number, _d: number, r: number) => r / 2 },
} as const;
export type ProfileName = keyof typeof PROFILES;
export const isProfile = (name: string): name is ProfileName => Object.hasOwn(PROFILES, name);

/** Hard bounds, whatever the arguments say: a load test must never run away on a shared machine. */
export const LIMITS = { maxSeconds: 3600, maxRate: 200, maxGenerations: 20_000, maxDrainSeconds: 600 } as const;

/**
 * Submit times (ms from the start) for a whole run: the rate integrated second by second,
 * spread evenly within each second, cut at `maxGenerations`.
 */
export function schedule(profile: ProfileName, seconds: number, rate: number, maxGenerations: number): number[] {
  const times: number[] = [];
  let carry = 0;
  for (let s = 0; s < seconds; s++) {
    const due = PROFILES[profile].rate(s, seconds, rate) + carry;
    const count = Math.floor(due);
    carry = due - count;
    for (let i = 0; i < count && times.length < maxGenerations; i++) times.push(1000 * (s + i / count));
  }
  return times;
}
