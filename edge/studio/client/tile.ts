/**
 * One gallery tile: the thumbnail (or the preview while it renders), what was asked, progress,
 * state, queue position, timings, and its actions. Built once, then re-rendered from each new
 * view; text goes in as text, never as markup.
 */
import { isTerminal } from "../../../shared/job-states.ts";
import { describeParams, describeState, describeTimings, type GenerationView } from "./generation-view.ts";

export interface TileActions {
  open(id: string): void;
  retry(id: string): void;
  cancel(id: string): void;
  remove(id: string): void;
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<Record<string, string>> = {},
  children: (Node | string)[] = [],
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) if (value !== undefined) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

const part = <T extends HTMLElement = HTMLElement>(tile: HTMLElement, selector: string): T => {
  const found = tile.querySelector<T>(selector);
  if (!found) throw new Error(`tile without ${selector}`);
  return found;
};

export function createTile(view: GenerationView, actions: TileActions): HTMLLIElement {
  const id = view.id;
  const button = (name: string, label: string, act: (id: string) => void) => {
    const b = element("button", { type: "button", class: name }, [label]);
    b.addEventListener("click", () => act(id));
    return b;
  };
  const tile = element(
    "li",
    {
      id: `g-${id}`,
      class: "tile",
      tabindex: "0",
      "aria-labelledby": `g-${id}-title`,
      "aria-describedby": `g-${id}-state`,
    },
    [
      element("div", { class: "frame" }, [
        element("img", { class: "image", alt: "", hidden: "" }),
        element("img", { class: "preview", alt: "", hidden: "" }),
        element("div", { class: "placeholder", "aria-hidden": "true" }),
      ]),
      element("p", { class: "title", id: `g-${id}-title` }),
      element("p", { class: "params" }),
      element("progress", { max: "100", value: "0", "aria-labelledby": `g-${id}-title` }),
      element("p", { class: "state", id: `g-${id}-state` }),
      element("p", { class: "timings" }),
      element("div", { class: "actions" }, [
        button("open", "Open", actions.open),
        element("a", { class: "download", href: "/", download: "", target: "_blank", rel: "noopener" }, ["Download"]),
        button("retry", "Retry", actions.retry),
        button("cancel", "Cancel", actions.cancel),
        button("delete", "Delete", actions.remove),
      ]),
    ],
  );
  renderTile(tile, view, Date.now());
  return tile;
}

export function renderTile(tile: HTMLElement, view: GenerationView, now: number): void {
  tile.dataset.status = view.status;
  part(tile, ".title").textContent = view.params.prompt;
  part(tile, ".params").textContent = describeParams(view);
  part<HTMLProgressElement>(tile, "progress").value = view.status === "completed" ? 100 : view.progress;
  part(tile, ".state").textContent = describeState(view);
  part(tile, ".timings").textContent = describeTimings(view, now);

  // The list shows the thumbnail where there is one; Open and Download take the image itself.
  const shown = view.thumbnail ?? view.image;
  const image = part<HTMLImageElement>(tile, "img.image");
  image.hidden = !shown;
  if (shown && image.getAttribute("src") !== shown.url) {
    image.src = shown.url;
    image.alt = `Generated image: ${view.params.prompt}`;
  }
  // A preview only stands in for an image to come: an ending without one takes it away.
  const preview = part<HTMLImageElement>(tile, "img.preview");
  preview.hidden = !view.preview || Boolean(shown);
  if (view.preview && !shown) {
    preview.src = view.preview.url;
    preview.alt = `Preview while rendering: ${view.params.prompt}`;
  } else preview.removeAttribute("src");
  part(tile, ".placeholder").hidden = Boolean(shown || view.preview);

  const download = part<HTMLAnchorElement>(tile, "a.download");
  download.hidden = !view.image;
  if (view.image) {
    download.href = view.image.url;
    download.download = `pixel-studio-${view.id}.${view.image.format}`;
  }
  part(tile, "button.open").hidden = !view.image;
  part(tile, "button.retry").hidden = view.status !== "failed" && view.status !== "expired";
  part(tile, "button.cancel").hidden = isTerminal(view.status);
}
