/**
 * The gallery: the user's generations newest first, a page at a time as the end scrolls into view
 * (the API's cursor), each followed live until it ends. Tiles are focusable: Enter or Space
 * opens, Delete asks to delete, arrow keys, Home and End move between tiles. Changes are
 * announced in the page's live region.
 */
import { isTerminal } from "../../../shared/job-states.ts";
import { ApiRefusal, api } from "./api.ts";
import { acceptedView, type GenerationView } from "./generation-view.ts";
import { follow, fromResource } from "./live.ts";
import { createTile, renderTile } from "./tile.ts";

const PAGE_SIZE = 12;

interface Entry {
  view: GenerationView;
  tile: HTMLLIElement;
  stop: () => void;
}

export interface GalleryElements {
  list: HTMLUListElement;
  more: HTMLButtonElement;
  end: HTMLElement;
  announcer: HTMLElement;
  viewer: HTMLDialogElement;
  confirmDelete: HTMLDialogElement;
}

export function createGallery(ui: GalleryElements) {
  const entries = new Map<string, Entry>();
  let cursor: string | null = null;
  let exhausted = false;
  let loading = false;

  const announce = (text: string) => {
    ui.announcer.textContent = text;
  };
  const named = (view: GenerationView) => `“${view.params.prompt}”`;

  const update = (view: GenerationView) => {
    const entry = entries.get(view.id);
    if (!entry) return;
    const ended = !isTerminal(entry.view.status) && isTerminal(view.status);
    entry.view = view;
    renderTile(entry.tile, view, Date.now());
    if (ended) announce(`${named(view)}: ${view.status}`);
  };

  const add = (view: GenerationView, eventsUrl: string | undefined, where: "first" | "last") => {
    if (entries.has(view.id)) return;
    const tile = createTile(view, actions);
    const stop = isTerminal(view.status) ? () => {} : follow(view, eventsUrl, update);
    entries.set(view.id, { view, tile, stop });
    if (where === "first") ui.list.prepend(tile);
    else ui.list.append(tile);
  };

  const forget = (id: string) => {
    const entry = entries.get(id);
    if (!entry) return;
    entry.stop();
    const next = (entry.tile.nextElementSibling ?? entry.tile.previousElementSibling) as HTMLElement | null;
    const hadFocus = entry.tile.contains(document.activeElement);
    entry.tile.remove();
    entries.delete(id);
    if (hadFocus) (next ?? ui.list).focus();
  };

  const askToDelete = (view: GenerationView) =>
    new Promise<boolean>((resolve) => {
      const title = ui.confirmDelete.querySelector("#confirm-title");
      if (title) title.textContent = `Delete ${named(view)}?`;
      ui.confirmDelete.returnValue = "";
      ui.confirmDelete.addEventListener("close", () => resolve(ui.confirmDelete.returnValue === "delete"), {
        once: true,
      });
      ui.confirmDelete.showModal();
    });

  const actions = {
    open(id: string) {
      const view = entries.get(id)?.view;
      if (!view?.image) return;
      const image = ui.viewer.querySelector<HTMLImageElement>("#viewer-image");
      const title = ui.viewer.querySelector("#viewer-title");
      const download = ui.viewer.querySelector<HTMLAnchorElement>("#viewer-download");
      if (!image || !title || !download) return;
      title.textContent = view.params.prompt;
      image.src = view.image.url;
      image.alt = `Generated image: ${view.params.prompt}`;
      image.width = view.image.width;
      image.height = view.image.height;
      download.href = view.image.url;
      download.download = `pixel-studio-${view.id}.${view.image.format}`;
      ui.viewer.showModal();
    },
    async retry(id: string) {
      const view = entries.get(id)?.view;
      if (!view) return;
      try {
        await submit(view.params);
      } catch (error) {
        announce(`Retry refused: ${(error as Error).message}`);
      }
    },
    async cancel(id: string) {
      try {
        update(fromResource(await api.cancel(id)));
        announce("Cancel requested");
      } catch (error) {
        announce(`Not canceled: ${(error as Error).message}`);
      }
    },
    async remove(id: string) {
      const view = entries.get(id)?.view;
      if (!view || !(await askToDelete(view))) return;
      try {
        await api.remove(id);
      } catch (error) {
        if (!(error instanceof ApiRefusal && error.status === 404)) {
          announce(`Not deleted: ${error instanceof Error ? error.message : String(error)}`);
          return;
        }
      }
      forget(id);
      announce(`Deleted ${named(view)}`);
    },
  };

  /** Submits and shows the new generation first; a refusal is thrown with its message. */
  async function submit(params: Parameters<typeof api.submit>[0]) {
    const accepted = await api.submit(params);
    const view = acceptedView(accepted);
    add(view, accepted.links.events, "first");
    announce(`${named(view)} queued`);
    return accepted;
  }

  async function loadMore() {
    if (loading || exhausted) return;
    loading = true;
    ui.more.disabled = true;
    try {
      const page = await api.list(cursor, PAGE_SIZE);
      for (const item of page.items) add(fromResource(item), item.links.events, "last");
      cursor = page.nextCursor;
      exhausted = cursor === null;
      ui.more.hidden = exhausted;
      ui.end.hidden = !exhausted || entries.size === 0;
      if (page.items.length) announce(`${entries.size} generations shown`);
    } catch (error) {
      announce(`Could not load the gallery: ${(error as Error).message}`);
    } finally {
      loading = false;
      ui.more.disabled = false;
    }
    // Still in view (a short page, a tall window): the observer will not fire again by itself.
    if (!exhausted && ui.more.getBoundingClientRect().top < window.innerHeight) void loadMore();
  }

  ui.list.addEventListener("keydown", (event) => {
    const tile = event.target as HTMLElement;
    const id = tile.classList.contains("tile") ? tile.id.slice(2) : undefined;
    if (!id) return;
    const tiles = [...ui.list.children] as HTMLElement[];
    const moveTo = (index: number) => tiles[Math.max(0, Math.min(tiles.length - 1, index))]?.focus();
    const at = tiles.indexOf(tile);
    const keys: Record<string, () => void> = {
      Enter: () => actions.open(id),
      " ": () => actions.open(id),
      Delete: () => void actions.remove(id),
      ArrowRight: () => moveTo(at + 1),
      ArrowDown: () => moveTo(at + 1),
      ArrowLeft: () => moveTo(at - 1),
      ArrowUp: () => moveTo(at - 1),
      Home: () => moveTo(0),
      End: () => moveTo(tiles.length - 1),
    };
    const act = keys[event.key];
    if (!act) return;
    event.preventDefault();
    act();
  });
  ui.viewer.querySelector("#viewer-close")?.addEventListener("click", () => ui.viewer.close());
  ui.more.addEventListener("click", () => void loadMore());
  // Infinite scroll: the button at the end loads the next page as it comes into view.
  new IntersectionObserver((seen) => {
    if (seen.some((s) => s.isIntersecting)) void loadMore();
  }).observe(ui.more);
  // The running ones' "for N s" lines move on between messages.
  setInterval(() => {
    const now = Date.now();
    for (const entry of entries.values()) if (!isTerminal(entry.view.status)) renderTile(entry.tile, entry.view, now);
  }, 1000);

  return { submit, loadMore };
}
