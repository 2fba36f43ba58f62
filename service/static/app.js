// The nextword page: the top-k next words as you type, from POST /v1/predict.
//
// The text is read in two parts: everything up to the word being typed, which the model reads,
// and that word itself ("Fr" in "I speak Fr"), sent as `prefix` so only words starting with it come
// back. To spare the service from reading the whole text on every keystroke, the page keeps the
// state token of the last answer whose text ended at a word boundary (after whitespace): while the
// text still starts with that text, only what was typed after it is sent, with the token. The
// tokenizer splits on whitespace first, so text cut after a space reads the same in two pieces.
// When earlier text was edited, or the service answers 409 (another model version now serves, or the
// token expired) or 422 invalid_state (the token was signed by a restarted server), the whole text is
// sent again.
// Suggestions the user saw for the word being typed and typed past (another letter instead of a
// click) are sent as `exclude` for the rest of that word, so its next suggestions are new words.
"use strict";

(() => {
  const DEBOUNCE_MS = 150;
  const MAX_PREFIX = 50; // the API's limit; no word the model knows is longer
  const MAX_EXCLUDE = 50; // the API's limit on `exclude`
  // The long-range cue: the language follows from a country named ~50 words earlier.
  const EXAMPLE =
    "I grew up in France. Later I moved away for work and lived in many places, learned to cook, " +
    "changed jobs twice and raised two children. These days I spend most evenings reading in the " +
    "garden or walking by the river with the dog. I speak fluent ";
  // The end of the word being typed: letters, digits and inner apostrophes, like the tokenizer's words.
  const WORD_AT_END = /[\p{L}\p{M}\p{N}\p{Pc}]+(?:['’][\p{L}\p{M}\p{N}\p{Pc}]*)*$/u;

  const $ = (id) => document.getElementById(id);
  const box = $("text");
  const list = $("suggestions");
  const kInput = $("k");
  const kValue = $("k-value");
  const message = $("message");
  const empty = $("empty");
  const context = $("context");
  const sent = $("sent");
  const modelVersion = $("model-version");

  let saved = null; // {text, token}: the state token for `text`, which ends in whitespace
  let timer = null;
  let controller = null;
  let shown = []; // the predictions on screen
  // The word being typed: where it starts (`read`), its letters when the suggestions on screen were
  // asked for, and the words passed over before those.
  let typing = { read: null, prefix: "", passed: [] };
  let highlighted = 0;

  class ApiError extends Error {
    constructor(status, code, text) {
      super(text);
      this.status = status;
      this.code = code;
    }
  }

  // One request to the API: the parsed JSON, or an ApiError with the API's code and message.
  // A network failure rejects with the browser's TypeError; an abort with an AbortError.
  async function call(path, body, signal) {
    const init = body === undefined
      ? { headers: { Accept: "application/json" }, signal }
      : { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify(body), signal };
    const response = await fetch(path, init);
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      // not JSON: a proxy's error page, say
    }
    if (!response.ok) {
      const err = data && data.error;
      if (err && err.message) throw new ApiError(response.status, err.code || "error", err.message);
      throw new ApiError(response.status, "http_error", `HTTP ${response.status} ${response.statusText}`.trim());
    }
    if (data === null) throw new ApiError(response.status, "not_json", "the answer was not JSON");
    return data;
  }

  // What to send for `text`: null when there is no word yet to predict from.
  function plan(text) {
    const tail = /\S*$/u.exec(text)[0];
    const prefix = (WORD_AT_END.exec(tail) || [""])[0];
    const read = text.slice(0, text.length - prefix.length);
    if (!read.trim()) return null;
    const body = { prompt: read, k: Number(kInput.value) };
    let incremental = false;
    if (saved && read.startsWith(saved.text)) {
      body.prompt = read.slice(saved.text.length);
      body.state = saved.token;
      incremental = true;
    }
    if (prefix) body.prefix = prefix;
    const passed = passedOver(read, prefix);
    if (passed.length) body.exclude = passed;
    // Only a state after whitespace is kept: a word cut in two would read as two words.
    return { body, read, prefix, passed, incremental, keepsState: /\s$/u.test(read) };
  }

  // The words to leave out for `prefix` of the word starting after `read`: those passed over for it
  // before, plus the ones on screen if this prefix extends theirs (the user typed on). A new word,
  // or letters taken back, starts afresh.
  function passedOver(read, prefix) {
    if (typing.read !== read || !prefix.startsWith(typing.prefix)) return [];
    const passed = prefix.length > typing.prefix.length
      ? typing.passed.concat(shown.map((p) => p.word.toLowerCase()))
      : typing.passed;
    return [...new Set(passed)].slice(-MAX_EXCLUDE);
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(ask, DEBOUNCE_MS);
  }

  async function ask() {
    clearTimeout(timer);
    if (controller) controller.abort();
    const p = plan(box.value);
    if (!p || p.prefix.length > MAX_PREFIX) {
      controller = null;
      document.body.classList.remove("busy");
      render([], p ? p.prefix : "", "");
      if (!p) clearMessage();
      return;
    }
    const mine = (controller = new AbortController());
    document.body.classList.add("busy");
    try {
      let data;
      try {
        data = await call("/v1/predict", p.body, mine.signal);
      } catch (e) {
        const stale = e instanceof ApiError && p.body.state &&
          ["state_model_mismatch", "state_expired", "invalid_state"].includes(e.code);
        if (!stale) throw e;
        saved = null; // the token is no good any more: send the whole text once
        const whole = { ...p.body, prompt: p.read };
        delete whole.state;
        p.incremental = false;
        data = await call("/v1/predict", whole, mine.signal);
      }
      if (mine !== controller) return; // a newer request is on its way
      if (p.keepsState) saved = { text: p.read, token: data.state };
      showModel(data.model);
      clearMessage();
      typing = { read: p.read, prefix: p.prefix, passed: p.passed };
      render(data.predictions, p.prefix, describeSent(p));
    } catch (e) {
      if (e.name === "AbortError" || mine !== controller) return;
      // The suggestions on screen were for other text: take them away rather than mislead.
      render([], "", "", "No suggestions until the service answers: see the message above.");
      if (e instanceof ApiError) {
        showMessage(`The service answered ${e.status} (${e.code}): ${e.message}`);
      } else {
        showMessage(`Cannot reach the service at ${location.origin}: is it running? (${e.message}). ` +
                    "Suggestions come back as you type once it answers.");
      }
    } finally {
      if (mine === controller) document.body.classList.remove("busy");
    }
  }

  function describeSent(p) {
    if (!p.incremental) return `Sent the whole text (${p.read.length} characters).`;
    if (!p.body.prompt) return "Asked again at the same point with the state token: no text resent.";
    const earlier = p.read.length - p.body.prompt.length;
    return `Sent only “${p.body.prompt.trim()}” with the state token: the ${earlier} characters before it were not resent.`;
  }

  function render(predictions, prefix, sentText, emptyText) {
    shown = predictions;
    highlighted = 0;
    list.classList.remove("dismissed");
    context.textContent = prefix ? `completing “${prefix}”` : "";
    const items = predictions.map((p, i) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "suggestion";
      button.dataset.word = p.word;
      button.dataset.index = String(i);
      const word = document.createElement("span");
      word.className = "word";
      word.textContent = p.word;
      const bar = document.createElement("span");
      bar.className = "bar";
      bar.setAttribute("aria-hidden", "true");
      const fill = document.createElement("span");
      fill.className = "fill";
      fill.style.width = `${Math.max(0.5, p.probability * 100).toFixed(1)}%`;
      bar.append(fill);
      const probability = document.createElement("span");
      probability.className = "probability";
      probability.textContent = percent(p.probability);
      button.append(word, bar, probability);
      item.append(button);
      return item;
    });
    list.replaceChildren(...items);
    markHighlight();
    empty.hidden = predictions.length > 0;
    if (emptyText) {
      empty.textContent = emptyText;
    } else if (prefix) {
      empty.textContent = `No word the model knows starts with “${prefix}”.`;
    } else {
      empty.textContent = "Type a word or two: the likeliest next words appear here.";
    }
    sent.textContent = sentText;
  }

  function percent(probability) {
    const value = probability * 100;
    if (value >= 0.1) return `${value.toFixed(1)}%`;
    return "<0.1%";
  }

  function markHighlight() {
    list.querySelectorAll(".suggestion").forEach((b, i) => {
      b.classList.toggle("highlighted", i === highlighted);
      b.setAttribute("aria-current", i === highlighted ? "true" : "false");
    });
  }

  // Accept a word: it replaces the word being typed (or follows the text), then a space.
  function accept(word) {
    const text = box.value;
    const tail = /\S*$/u.exec(text)[0];
    const prefix = (WORD_AT_END.exec(tail) || [""])[0];
    let base = text.slice(0, text.length - prefix.length);
    if (!prefix && base && !/\s$/u.test(base)) base += " ";
    box.value = `${base}${word} `;
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
    ask();
  }

  function showModel(version) {
    if (version) modelVersion.textContent = version;
  }

  function showMessage(text) {
    message.textContent = text;
    message.classList.add("error");
    message.hidden = false;
  }

  function clearMessage() {
    message.hidden = true;
    message.textContent = "";
  }

  box.addEventListener("input", schedule);
  box.addEventListener("keydown", (e) => {
    const visible = shown.length > 0 && !list.classList.contains("dismissed");
    if (e.key === "Tab" && !e.shiftKey && !e.ctrlKey && !e.altKey && !e.metaKey && visible) {
      e.preventDefault();
      accept(shown[highlighted].word);
    } else if (e.key === "Escape" && visible) {
      list.classList.add("dismissed"); // Tab now moves focus on, as usual
    } else if (e.altKey && (e.key === "ArrowDown" || e.key === "ArrowUp") && visible) {
      e.preventDefault();
      const step = e.key === "ArrowDown" ? 1 : -1;
      highlighted = (highlighted + step + shown.length) % shown.length;
      markHighlight();
    }
  });
  list.addEventListener("mousedown", (e) => e.preventDefault()); // keep the caret in the text box
  list.addEventListener("click", (e) => {
    const button = e.target.closest(".suggestion");
    if (button) accept(button.dataset.word);
  });
  kInput.addEventListener("input", () => {
    kValue.textContent = kInput.value;
    schedule();
  });
  $("example").addEventListener("click", () => {
    box.value = EXAMPLE;
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
    ask();
  });
  $("clear").addEventListener("click", () => {
    box.value = "";
    saved = null;
    box.focus();
    ask();
  });

  // The served version before the first prediction; a service without a model says so here.
  call("/v1/models")
    .then((info) => showModel(info.model))
    .catch((e) => {
      modelVersion.textContent = "unknown";
      if (e instanceof ApiError) showMessage(`The service answered ${e.status} (${e.code}): ${e.message}`);
      else showMessage(`Cannot reach the service at ${location.origin}: is it running? (${e.message})`);
    });
  kValue.textContent = kInput.value;
  if (box.value) ask(); // a reload can keep the text box's content
})();
