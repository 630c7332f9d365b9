/**
 * The console's only script, bundled for the browser when the console starts: keeps live
 * sections fresh (server-rendered fragments, swapped in) and asks before any replay.
 */
const REFRESH_MS = 2000;

async function refresh(section: HTMLElement): Promise<void> {
  const url = section.dataset.live;
  if (!url) return;
  const response = await fetch(url, { credentials: "same-origin", headers: { accept: "text/html" } });
  // Signed out or expired: the next navigation shows the sign-in page.
  if (!response.ok) return;
  section.innerHTML = await response.text();
  section.dataset.refreshedAt = String(Date.now());
}

function keepLive(): void {
  const sections = [...document.querySelectorAll<HTMLElement>("[data-live]")];
  if (sections.length === 0) return;
  const tick = () => {
    void Promise.allSettled(sections.map(refresh)).then(() => setTimeout(tick, REFRESH_MS));
  };
  setTimeout(tick, REFRESH_MS);
}

function confirmReplays(): void {
  const dialog = document.getElementById("confirm-dialog") as HTMLDialogElement | null;
  const text = document.getElementById("confirm-text");
  if (!dialog || !text) return;
  document.addEventListener("submit", (event) => {
    const form = event.target as HTMLFormElement;
    const question = form.dataset.confirm;
    if (!question) return;
    event.preventDefault();
    text.textContent = question;
    dialog.returnValue = "";
    dialog.onclose = () => {
      if (dialog.returnValue !== "confirm") return;
      const confirmed = form.querySelector<HTMLInputElement>("input[name=confirm]");
      if (confirmed) confirmed.value = "yes";
      form.submit();
    };
    dialog.showModal();
  });
}

keepLive();
confirmReplays();
