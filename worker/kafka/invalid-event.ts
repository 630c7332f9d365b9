import { PipelineError } from "../../shared/errors.ts";
import type { EventDefinition } from "../../shared/events/define-event.ts";
import { formatIssues, type Issue } from "../../shared/schema/schema.ts";

/** A message that is not a valid event of its topic: it will never be one, so it is not retryable. */
export function invalidEvent(definition: EventDefinition<{ v: 1 }>, issues: Issue[]): PipelineError {
  return new PipelineError("invalid_event", `not a valid ${definition.name} event: ${formatIssues(issues)}`, {
    retryable: false,
    details: issues,
  });
}
