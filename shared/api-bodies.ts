/**
 * Response bodies of the HTTP API besides the generation itself (shared/snapshot.ts) and errors
 * (shared/api-errors.ts): the routes type their answers with these, the OpenAPI documents are
 * generated from them, and the contract test checks real answers against them.
 */
import { generationParams } from "./events/params.ts";
import { generationLogEntry } from "./history.ts";
import { PRIORITIES } from "./job-states.ts";
import {
  array,
  boolean,
  described,
  type Infer,
  integer,
  isoDate,
  literal,
  named,
  nullable,
  object,
  oneOf,
  optional,
  string,
  url,
} from "./schema/schema.ts";
import { generationId, snapshotShape } from "./snapshot.ts";
import { PREVIOUS_SECRET_GRACE_MS, WEBHOOK_SECRET_PATTERN } from "./webhook-secret.ts";

const selfLink = described(string({ min: 1 }), "This generation: `/api/generations/{id}`.");
const logsLink = described(string({ min: 1 }), "Its log: `/api/generations/{id}/logs`.");
const eventsLink = described(
  url({ protocols: ["ws:", "wss:"] }),
  "Its live WebSocket on PUBLIC_WS_URL, with a 15-minute token for this user and generation.",
);
const cancelLink = described(string({ min: 1 }), "`POST` here to cancel: `/api/generations/{id}/cancel`.");

/** The `202` of `POST /api/generations`. */
export const acceptedGeneration = named(
  "AcceptedGeneration",
  object({
    id: generationId,
    status: literal("queued"),
    createdAt: isoDate(),
    priority: oneOf(PRIORITIES),
    startDeadline: optional(
      described(isoDate(), "From `Cancel-After`: not started by then, it ends `expired` without running."),
    ),
    params: named("GenerationParams", generationParams),
    links: object({ self: selfLink, logs: logsLink, events: eventsLink, cancel: cancelLink }),
  }),
);
export type AcceptedGeneration = Infer<typeof acceptedGeneration>;

/** Where to go from a generation: `events` and `cancel` only while it has not ended. */
export const generationLinks = named(
  "GenerationLinks",
  object({
    self: selfLink,
    logs: logsLink,
    events: optional(described(eventsLink, "While it has not ended: its live WebSocket, with a fresh token.")),
    cancel: optional(described(cancelLink, "While it has not ended.")),
  }),
);
export type GenerationLinks = Infer<typeof generationLinks>;

/** `GET /api/generations/{id}` (and the list's items, and a cancel's `202`): the generation and its links. */
export const generationResource = named("GenerationResource", object({ ...snapshotShape, links: generationLinks }));
export type GenerationResource = Infer<typeof generationResource>;

/** `GET /api/generations`: the caller's generations, newest first, live and from the history alike. */
export const generationPage = named(
  "GenerationPage",
  object({
    items: array(generationResource, { max: 100 }),
    nextCursor: described(nullable(generationId), "Pass as `cursor` for the next page; null on the last page."),
  }),
);
export type GenerationPage = Infer<typeof generationPage>;

/** `GET /api/generations/{id}/logs`: the generation's log, oldest first. */
export const generationLogs = named(
  "GenerationLogs",
  object({
    id: generationId,
    entries: described(
      array(generationLogEntry),
      "Oldest first: the last 200 lines while Redis holds the generation (7 days), every line from the history after.",
    ),
  }),
);
export type GenerationLogs = Infer<typeof generationLogs>;

/** The edge's `GET /healthz`. */
export const edgeHealth = named(
  "EdgeHealth",
  object({
    status: oneOf(["ok", "unavailable"]),
    failing: optional(array(oneOf(["kafka-rest", "redis"]))),
    error: optional(object({ code: literal("unavailable"), message: string({ min: 1 }) })),
  }),
);

/** A worker's (or the standalone live server's) `GET /healthz`: the process answers. */
export const workerLiveness = named(
  "Liveness",
  object({
    status: literal("ok"),
    sockets: optional(described(integer({ min: 0 }), "Open live connections (standalone live server only).")),
  }),
);

/** A worker's `GET /readyz`. */
export const workerReadiness = named(
  "Readiness",
  object({
    status: oneOf(["ready", "not-ready"]),
    failing: optional(described(array(string({ min: 1 })), "What is not ready, e.g. kafka-consumer, redis.")),
  }),
);

/** `POST /api/webhook-secret`'s body: optional, and it has no fields yet, so `{}` when sent. */
export const webhookSecretRequest = named(
  "WebhookSecretRequest",
  described(
    object({
      revokePrevious: optional(
        described(
          boolean(),
          "true: the secret this call replaces stops signing at once (a leaked secret), instead of beside the " +
            `new one for ${PREVIOUS_SECRET_GRACE_MS / 3_600_000} h; receivers still on it reject deliveries until they switch.`,
        ),
      ),
    }),
    'Optional: send no body, `{}`, or `{"revokePrevious": true}` as application/json.',
  ),
);

/** The `201` of `POST /api/webhook-secret`: the new signing secret, shown this once. */
export const webhookSecretCreated = named(
  "WebhookSecret",
  object({
    secret: described(
      string({ pattern: WEBHOOK_SECRET_PATTERN }),
      "The new signing secret in Standard Webhooks form (`whsec_` + base64 of 24 random bytes). Shown only " +
        "here: store it; calling again makes a new one.",
    ),
    createdAt: isoDate(),
    previousValidUntil: described(
      nullable(isoDate()),
      `When this call replaced a secret: until when the previous one still signs deliveries beside the new one ` +
        `(${PREVIOUS_SECRET_GRACE_MS / 3_600_000} h). Null for a user's first secret, and with \`revokePrevious\`.`,
    ),
  }),
);
export type WebhookSecretCreated = Infer<typeof webhookSecretCreated>;
