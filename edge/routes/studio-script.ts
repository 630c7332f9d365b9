/** The studio page's script, kept beside it as text so the edge stays a single bundle. */
export const STUDIO_SCRIPT = `
const form = document.getElementById("create");
const list = document.getElementById("items");
const message = document.getElementById("message");

function card(id) {
  let li = document.getElementById("g-" + id);
  if (!li) {
    li = document.createElement("li");
    li.id = "g-" + id;
    li.innerHTML = '<div class="title"></div><progress max="100" value="0"></progress><div class="state"></div><button class="cancel" type="button">Cancel</button><div class="out"></div>';
    li.querySelector(".cancel").addEventListener("click", async (e) => {
      e.target.disabled = true;
      const r = await fetch("/api/generations/" + id + "/cancel", { method: "POST" });
      if (r.status !== 202) e.target.textContent = "Already ended";
    });
    list.prepend(li);
  }
  return li;
}

const ENDED = ["completed", "failed", "canceled", "expired"];

function render(id, g) {
  const li = card(id);
  if (ENDED.includes(g.status) || g.image) li.querySelector(".cancel").hidden = true;
  if (g.params) li.querySelector(".title").textContent = g.params.prompt + " · " + g.params.style + " · " + g.params.width + "×" + g.params.height + " " + g.params.format;
  if (typeof g.progress === "number") li.querySelector("progress").value = g.progress;
  const state = g.status ? g.status + (g.stage ? " · " + g.stage : "") + (typeof g.queuePosition === "number" ? " · " + g.queuePosition + " ahead" : "") : "";
  if (state) li.querySelector(".state").textContent = state;
  // A preview only stands in for an image to come: an ending without one takes it away.
  if (ENDED.includes(g.status) && !g.image && li.querySelector("img.preview")) li.querySelector("img.preview").remove();
  if (g.preview && !g.image) {
    // A data: URL of a small WebP while it renders; the image replaces it.
    if (!li.querySelector("img.preview")) li.querySelector(".out").innerHTML = '<img class="preview" alt="preview">';
    li.querySelector("img.preview").src = g.preview.url;
  }
  if (g.image) {
    li.querySelector("progress").value = 100;
    li.querySelector(".state").textContent = "completed";
    li.querySelector(".out").innerHTML = '<a><img class="image" alt="generated image"></a>';
    li.querySelector(".out a").href = g.image.url;
    // The list shows the thumbnail where there is one; the link opens the image itself.
    li.querySelector("img.image").src = (g.thumbnail || g.image).url;
  }
  if (g.error) li.querySelector(".out").innerHTML = '<span class="error"></span>', li.querySelector(".error").textContent = g.error.code + ": " + g.error.message;
}

function follow(id, eventsUrl) {
  const ws = new WebSocket(eventsUrl);
  let ended = false;
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.type === "completed") { ended = true; render(id, { image: m.image }); }
    else if (m.type === "preview") render(id, { status: "processing", stage: m.stage, progress: m.progress, preview: m.preview });
    else if (m.type === "failed") { ended = true; render(id, { status: "failed", error: m.error }); }
    else if (m.type === "canceled" || m.type === "expired") { ended = true; render(id, { status: m.type, stage: "done" }); }
    else render(id, m);
  };
  ws.onclose = () => { if (!ended) poll(id); };
}

async function poll(id) {
  for (;;) {
    const r = await fetch("/api/generations/" + id);
    if (!r.ok) return;
    const g = await r.json();
    render(id, g);
    if (ENDED.includes(g.status)) return;
    await new Promise((ok) => setTimeout(ok, 1000));
  }
}

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  message.textContent = "";
  const body = Object.fromEntries([...new FormData(form)].filter(([, v]) => v !== ""));
  for (const k of ["width", "height", "seed"]) if (body[k] !== undefined) body[k] = Number(body[k]);
  const r = await fetch("/api/generations", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const g = await r.json();
  if (r.status !== 202 && r.status !== 200) {
    // The message is the code's fixed text; what is wrong with which field is in details.
    const details = g.error && g.error.details ? g.error.details.map((d) => d.path + " " + d.message).join("; ") : "";
    message.textContent = g.error ? g.error.message + (details ? ": " + details : "") : "Request failed";
    return;
  }
  render(g.id, g);
  if (g.links && g.links.events) follow(g.id, g.links.events); else render(g.id, g);
});

fetch("/api/generations?limit=10").then((r) => r.ok ? r.json() : { items: [] }).then(({ items }) => {
  for (const g of items.reverse()) { render(g.id, g); if (!ENDED.includes(g.status)) poll(g.id); }
});
`;
