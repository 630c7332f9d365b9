/**
 * Follows one generation until it ends: its WebSocket (`links.events`) while it is open, then, if
 * it closed before the end (a restart, a lost connection, an expired token), the API every
 * POLL_MS.
 */
import type { GenerationResource } from "../../../shared/api-bodies.ts";
import { isTerminal } from "../../../shared/job-states.ts";
import type { ServerMessage } from "../../../shared/ws-messages.ts";
import { ApiRefusal, api } from "./api.ts";
import { advance, type GenerationView } from "./generation-view.ts";

const POLL_MS = 1500;

export const fromResource = (resource: GenerationResource): GenerationView => {
  const { links: _links, ...view } = resource;
  return view;
};

/** Calls `onChange` with each new view; the returned function stops following. */
export function follow(
  initial: GenerationView,
  eventsUrl: string | undefined,
  onChange: (view: GenerationView) => void,
): () => void {
  let view = initial;
  let stopped = false;
  let socket: WebSocket | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const update = (next: GenerationView) => {
    if (stopped || next === view) return;
    view = next;
    onChange(view);
  };

  const poll = async () => {
    if (stopped || isTerminal(view.status)) return;
    try {
      const resource = await api.get(view.id);
      update(resource.seq >= view.seq || isTerminal(resource.status) ? fromResource(resource) : view);
    } catch (error) {
      // Deleted elsewhere: nothing more to follow. The API away: the next poll tries again.
      if (error instanceof ApiRefusal && error.status === 404) return;
    }
    if (!stopped && !isTerminal(view.status)) timer = setTimeout(poll, POLL_MS);
  };

  if (eventsUrl) {
    socket = new WebSocket(eventsUrl);
    socket.onmessage = (event) => {
      update(advance(view, JSON.parse(String(event.data)) as ServerMessage));
      if (isTerminal(view.status)) socket?.close();
    };
    socket.onclose = () => void poll();
  } else void poll();

  return () => {
    stopped = true;
    clearTimeout(timer);
    socket?.close();
  };
}
