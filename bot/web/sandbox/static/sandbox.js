// The sandbox page: renders the JSON snapshot of the three panes and posts what the trainee does.
// Every text from the bot or a person goes through textContent, never innerHTML.
"use strict";

const TEXTS = JSON.parse(document.getElementById("texts").textContent);
const view = { citizen: "", body: "", thread: null };
let clock = { now: null, speed: 1, at: 0 };
let refreshing = null;
let again = false;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function showError(message) {
  const box = document.getElementById("error");
  box.textContent = message ? `${TEXTS["sandbox-error"]}: ${message}` : "";
  box.hidden = !message;
}

let toastTimer = null;

// A button's answer pops up over the page as it does over the messenger (an alert stays until closed).
function showToast(text, alert) {
  const box = document.getElementById("toast");
  box.querySelector(".toast-text").textContent = text;
  box.classList.toggle("alert", Boolean(alert));
  box.hidden = false;
  clearTimeout(toastTimer);
  if (!alert) toastTimer = setTimeout(() => (box.hidden = true), 4000);
}

async function post(action, body) {
  const response = await fetch(`/sandbox/api/${action}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({ error: response.statusText }));
  showError(response.ok ? "" : answer.error || response.statusText);
  if (answer.toast) showToast(answer.toast, answer.alert);
  refresh();
  return answer;
}

// ------------------------------------------------------------------ rendering

function bubble(message, onPress) {
  const item = el("li", message.out ? "message out" : "message in");
  // In an operator topic a message starting with ! is an internal note: the citizen never sees it.
  if (message.thread && message.text.startsWith("!")) item.classList.add("note");
  item.dataset.id = message.id;
  const author = message.author === "bot" ? TEXTS["sandbox-bot"] : message.author;
  item.append(el("div", "author", message.out ? TEXTS["sandbox-you"] : author));
  for (const url of message.photos) {
    if (url) {
      const image = el("img", "photo");
      image.src = url;
      image.alt = TEXTS["sandbox-photo"];
      item.append(image);
    } else {
      item.append(el("div", "photo placeholder", `🖼 ${TEXTS["sandbox-photo"]}`));
    }
  }
  if (message.location) {
    const { lat, lon } = message.location;
    item.append(el("div", "location", `📍 ${TEXTS["sandbox-location"]}: ${lat.toFixed(4)}, ${lon.toFixed(4)}`));
  }
  if (message.contact) item.append(el("div", "contact", `📱 ${TEXTS["sandbox-contact"]}: ${message.contact}`));
  if (message.text) item.append(el("div", "text", message.text));
  if (message.edited) item.append(el("div", "edited", TEXTS["sandbox-edited"]));
  if (message.buttons.length && onPress) {
    const keyboard = el("div", "inline-keyboard");
    for (const row of message.buttons) {
      const line = el("div", "row");
      for (const label of row) {
        const button = el("button", "inline-button", label);
        button.type = "button";
        button.addEventListener("click", () => onPress(message.id, label));
        line.append(button);
      }
      keyboard.append(line);
    }
    item.append(keyboard);
  }
  return item;
}

function renderMessages(list, messages, onPress) {
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.replaceChildren(...messages.map((m) => bubble(m, onPress)));
  if (atBottom || list.dataset.seen !== String(messages.length)) list.scrollTop = list.scrollHeight;
  list.dataset.seen = String(messages.length);
}

function renderCitizen(state) {
  const pick = document.getElementById("citizen-pick");
  pick.replaceChildren(
    ...state.citizens.map((c) => {
      const option = el("option", "", `${c.platform === "tg" ? "Telegram" : "VK"} · ${c.name} (${c.language})`);
      option.value = c.key;
      return option;
    }),
  );
  if (!view.citizen && state.citizens.length) {
    // A page opened after citizens were made (a scenario, another tab) shows the newest one.
    view.citizen = state.citizens[state.citizens.length - 1].key;
    pick.value = view.citizen;
    refresh();
    return;
  }
  pick.value = view.citizen;
  const pane = state.citizen;
  const screen = document.getElementById("citizen-screen");
  const title = document.getElementById("citizen-title");
  const keyboard = document.getElementById("citizen-keyboard");
  if (!pane) {
    title.textContent = TEXTS["sandbox-no-citizen"];
    document.getElementById("citizen-messages").replaceChildren();
    keyboard.replaceChildren();
    return;
  }
  screen.dataset.platform = pane.platform;
  title.textContent = `${pane.platform === "tg" ? "Telegram" : "VK"} · ${pane.name}`;
  renderMessages(document.getElementById("citizen-messages"), pane.messages, (id, label) =>
    post("citizen/press", { citizen: view.citizen, message: id, label }),
  );
  keyboard.replaceChildren(
    ...pane.keyboard.map((row) => {
      const line = el("div", "row");
      for (const button of row) {
        const node = el("button", `reply-button ${button.kind}`, button.kind === "location" && button.label === "📍" ? `📍 ${TEXTS["sandbox-location"]}` : button.label);
        node.type = "button";
        node.addEventListener("click", () => replyButton(button));
        line.append(node);
      }
      return line;
    }),
  );
}

function renderOperator(state) {
  const pane = state.operator;
  if (!pane) return;
  document.getElementById("operator-title").textContent = `${pane.title} · ${pane.operator}`;
  view.thread = pane.thread;
  const topics = document.getElementById("topics");
  // The first entry is the forum's general topic (id 0); report topics follow, newest first.
  const listed = pane.topics.map((topic) => {
    const name = topic.id === 0 ? TEXTS["sandbox-topic-general"] : topic.name;
    const item = el("li", topic.id === pane.thread ? "topic-item current" : "topic-item");
    const button = el("button", "", topic.closed ? `🔒 ${name}` : name);
    button.type = "button";
    button.title = topic.closed ? TEXTS["sandbox-topic-closed"] : name;
    button.addEventListener("click", () => {
      view.thread = topic.id;
      refresh();
    });
    item.append(button);
    return item;
  });
  if (listed.length < 2) listed.push(el("li", "empty", TEXTS["sandbox-no-topics"]));
  topics.replaceChildren(...listed);
  renderMessages(document.getElementById("operator-messages"), pane.messages, (id, label) =>
    post("operator/press", { body: view.body, message: id, label }),
  );
}

function renderComms(state) {
  const pane = state.comms;
  document.getElementById("comms-title").textContent = `${pane.title} · ${pane.member}`;
  renderMessages(document.getElementById("comms-messages"), pane.messages, (id, label) => {
    const approver = document.getElementById("as-approver").checked;
    post("comms/press", { message: id, label, as: approver ? "approver" : "comms" });
  });
}

// The training controls work only when the sandbox has a trainer (scenarios); otherwise free practice.
function renderTraining(training) {
  const picker = document.getElementById("scenario");
  const controls = ["scenario", "trainee", "scenario-start", "scenario-finish", "next-deadline"];
  for (const id of controls) document.getElementById(id).disabled = !training;
  if (!training) return;
  if (picker.options.length !== training.scenarios.length + 1) {
    picker.replaceChildren(picker.options[0]);
    for (const scenario of training.scenarios) {
      const option = el("option", "", `${scenario.title} (${scenario.citizens})`);
      option.value = scenario.name;
      option.title = scenario.description;
      picker.append(option);
    }
  }
  document.getElementById("scenario-finish").disabled = !training.running;
  const score = document.getElementById("score");
  const card = training.card;
  if (!card) {
    score.textContent = TEXTS["sandbox-score-empty"];
    return;
  }
  const rating = card.average_rating === null ? "—" : card.average_rating.toFixed(1);
  score.replaceChildren(
    el("strong", "", `${TEXTS["sandbox-score"]}: ${card.score}/100`),
    el("span", "", ` · ${TEXTS["sandbox-card-first"]}: ${card.first_on_time}/${card.first_on_time + card.first_late}`),
    el("span", "", ` · ${TEXTS["sandbox-card-answers"]}: ${card.answers_on_time}/${card.answers_on_time + card.answers_late}`),
    el("span", "", ` · ${TEXTS["sandbox-card-rating"]}: ${rating}`),
    el("span", "", ` · ${TEXTS["sandbox-card-escalations"]}: ${card.escalations}`),
    el("span", "", ` · ${TEXTS["sandbox-card-waiting"]}: ${card.waiting}`),
  );
}

function renderClock() {
  if (!clock.now) return;
  const elapsed = ((performance.now() - clock.at) / 1000) * clock.speed;
  const moment = new Date(clock.now.getTime() + elapsed * 1000);
  document.getElementById("clock-now").textContent = moment.toLocaleString("ru-RU", {
    timeZone: "Asia/Yekaterinburg",
    weekday: "short",
    day: "2-digit",
    month: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

// Refreshes never overlap: a change during one schedules exactly one more.
async function refresh() {
  if (refreshing) {
    again = true;
    return refreshing;
  }
  refreshing = (async () => {
    do {
      again = false;
      const query = new URLSearchParams({
        citizen: view.citizen,
        body: view.body,
        thread: view.thread ?? "",
        lang: document.documentElement.lang,
      });
      const response = await fetch(`/sandbox/state?${query}`);
      if (!response.ok) break;
      const state = await response.json();
      renderCitizen(state);
      renderOperator(state);
      renderComms(state);
      renderTraining(state.training);
      clock = { now: new Date(state.clock.now), speed: state.clock.speed, at: performance.now() };
      document.getElementById("speed").value = String(state.clock.speed);
    } while (again);
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

// ------------------------------------------------------------------ the citizen's actions

function replyButton(button) {
  if (button.kind === "location") {
    document.getElementById("attachments").hidden = false;
    document.getElementById("oblast").scrollIntoView({ block: "nearest" });
    return;
  }
  if (button.kind === "contact") {
    document.getElementById("attachments").hidden = false;
    document.querySelector("#contact-form input").focus();
    return;
  }
  post("citizen/reply", { citizen: view.citizen, label: button.label });
}

function shareLocation(lat, lon) {
  post("citizen/location", { citizen: view.citizen, lat, lon });
}

function mapClick(event) {
  const svg = event.currentTarget;
  const town = event.target.closest(".town");
  if (town) return shareLocation(Number(town.dataset.lat), Number(town.dataset.lon));
  const projection = JSON.parse(svg.dataset.projection);
  const point = svg.createSVGPoint();
  point.x = event.clientX;
  point.y = event.clientY;
  const local = point.matrixTransform(svg.getScreenCTM().inverse());
  const lat = projection.north - local.y / projection.scale;
  const lon = projection.west + local.x / (projection.scale * projection.cos);
  shareLocation(Number(lat.toFixed(5)), Number(lon.toFixed(5)));
}

function uploadPhoto(event) {
  const file = event.target.files[0];
  if (!file) return;
  const reader = new FileReader();
  reader.onload = () => post("citizen/photo", { citizen: view.citizen, upload: reader.result });
  reader.readAsDataURL(file);
  event.target.value = "";
}

function onSubmit(id, handler) {
  const form = document.getElementById(id);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    handler(form);
  });
}

function wire() {
  onSubmit("new-citizen", async (form) => {
    const data = new FormData(form);
    const answer = await post("citizen/new", Object.fromEntries(data));
    if (answer.citizen) {
      view.citizen = answer.citizen;
      refresh();
    }
  });
  onSubmit("citizen-compose", (form) => {
    const text = form.text.value.trim();
    if (!text) return;
    form.text.value = "";
    post("citizen/text", { citizen: view.citizen, text });
  });
  onSubmit("contact-form", (form) => post("citizen/contact", { citizen: view.citizen, phone: form.phone.value }));
  onSubmit("operator-compose", (form) => {
    const text = form.text.value.trim();
    if (!text) return;
    form.text.value = "";
    post("operator/text", { body: view.body, thread: view.thread, text });
  });
  onSubmit("comms-compose", (form) => {
    const text = form.text.value.trim();
    if (!text) return;
    form.text.value = "";
    post("comms/text", { text });
  });
  document.querySelector("#toast button").addEventListener("click", () => {
    document.getElementById("toast").hidden = true;
  });
  document.getElementById("attach-toggle").addEventListener("click", () => {
    const box = document.getElementById("attachments");
    box.hidden = !box.hidden;
  });
  for (const button of document.querySelectorAll(".picture")) {
    button.addEventListener("click", () => post("citizen/photo", { citizen: view.citizen, picture: button.dataset.picture }));
  }
  document.getElementById("upload").addEventListener("change", uploadPhoto);
  document.getElementById("oblast").addEventListener("click", mapClick);
  document.getElementById("town-pick").addEventListener("change", (event) => {
    if (!event.target.value) return;
    const [lat, lon] = event.target.value.split(",").map(Number);
    event.target.value = "";
    shareLocation(lat, lon);
  });
  document.getElementById("citizen-pick").addEventListener("change", (event) => {
    view.citizen = event.target.value;
    refresh();
  });
  const bodyPick = document.getElementById("body-pick");
  view.body = bodyPick.value;
  bodyPick.addEventListener("change", () => {
    view.body = bodyPick.value;
    view.thread = null;
    refresh();
  });
  document.getElementById("speed").addEventListener("change", (event) =>
    post("clock/speed", { speed: Number(event.target.value) }),
  );
  document.getElementById("scenario-start").addEventListener("click", () => {
    const scenario = document.getElementById("scenario").value;
    if (scenario) post("training/start", { scenario, trainee: document.getElementById("trainee").value });
  });
  document.getElementById("scenario-finish").addEventListener("click", () => post("training/finish", {}));
  document.getElementById("next-deadline").addEventListener("click", async () => {
    const answer = await post("training/next-deadline", {});
    if ("at" in answer) showToast(answer.at ? TEXTS["sandbox-deadline-moved"] : TEXTS["sandbox-no-deadline"]);
  });
  const stream = new EventSource("/sandbox/events");
  stream.addEventListener("change", () => refresh());
  setInterval(renderClock, 1000);
  refresh();
}

document.addEventListener("DOMContentLoaded", wire);
