/**
 * The studio page's script (bundled by `npm run build:page` into ../studio-bundle.ts): the create
 * form and the gallery.
 */
import type { SubmitParams } from "./api.ts";
import { createGallery } from "./gallery.ts";

const byId = <T extends HTMLElement>(id: string): T => {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found as T;
};

const gallery = createGallery({
  list: byId("gallery"),
  more: byId("more"),
  end: byId("gallery-end"),
  announcer: byId("announcer"),
  viewer: byId("viewer"),
  confirmDelete: byId("confirm-delete"),
});

const form = byId<HTMLFormElement>("create");
const message = byId("message");
const NUMBERS = new Set(["width", "height", "seed"]);

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  message.textContent = "";
  const fields = [...new FormData(form)].filter(([, value]) => value !== "");
  const params = Object.fromEntries(
    fields.map(([name, value]) => [name, NUMBERS.has(name) ? Number(value) : String(value)]),
  ) as SubmitParams;
  const button = form.querySelector<HTMLButtonElement>("button[type=submit]");
  if (button) button.disabled = true;
  try {
    await gallery.submit(params);
  } catch (error) {
    message.textContent = (error as Error).message;
  } finally {
    if (button) button.disabled = false;
  }
});

void gallery.loadMore();
