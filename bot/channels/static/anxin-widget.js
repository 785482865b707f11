/*
 * 安心售后助手 — shop chat widget.
 *
 * Embed on a shop page with one tag (the bot serves this file):
 *   <script src="https://BOT/webhooks/widget/anxin-widget.js"
 *           data-buyer-id="buyer_tm_chen" data-shop-id="demo_tmall" data-platform="tmall"></script>
 * Optional: data-server (the bot's base URL; default: where this script came from),
 * data-title, data-open="true" (start opened), data-mode="manual" (do not mount; call
 * AnxinWidget.mount({...}) yourself, as the demo page does).
 *
 * Talks to Rasa's socketio channel with socket.io-client v4 (served by the bot from
 * var/npm). The socket.io session id, the rendered history and the handoff state are
 * kept in localStorage, so a reload or reconnect continues the same conversation.
 */
(function () {
  "use strict";

  var SCRIPT = document.currentScript;
  var MAX_UPLOAD_BYTES = 8 * 1024 * 1024;
  var IMAGE_TYPES = ["image/jpeg", "image/png", "image/webp"];
  var MAX_HISTORY = 300;
  var TYPING_TIMEOUT_MS = 30000;
  var HANDOFF_TEXT = "人工客服已接手";

  var CSS = [
    ".anxin-root{font-family:-apple-system,BlinkMacSystemFont,'PingFang SC','Hiragino Sans GB','Microsoft YaHei','Noto Sans CJK SC',sans-serif;font-size:15px;line-height:1.5;color:#222;box-sizing:border-box}",
    ".anxin-root *{box-sizing:border-box}",
    ".anxin-launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:28px;background:#ff5000;color:#fff;padding:12px 20px;font-size:16px;box-shadow:0 4px 14px rgba(0,0,0,.25);cursor:pointer}",
    ".anxin-panel{display:flex;flex-direction:column;background:#f5f5f5;overflow:hidden}",
    ".anxin-floating .anxin-panel{position:fixed;right:20px;bottom:84px;width:380px;height:600px;max-height:calc(100vh - 104px);z-index:2147483000;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.25)}",
    ".anxin-floating.anxin-closed .anxin-panel{display:none}",
    ".anxin-inline{height:100%}",
    ".anxin-inline .anxin-panel{width:100%;height:100%;border-radius:0}",
    "@media (max-width:480px){.anxin-floating .anxin-panel{right:0;bottom:0;width:100vw;height:100vh;max-height:none;border-radius:0}}",
    ".anxin-header{display:flex;align-items:center;gap:8px;background:#ff5000;color:#fff;padding:10px 14px}",
    ".anxin-title{font-weight:600;flex:1}",
    ".anxin-status{font-size:12px;opacity:.9}",
    ".anxin-close{border:0;background:transparent;color:#fff;font-size:22px;line-height:1;cursor:pointer;padding:0 4px}",
    ".anxin-inline .anxin-close{display:none}",
    ".anxin-banner{background:#fff4e5;color:#8a4b00;border-bottom:1px solid #ffd9a8;padding:8px 14px;font-size:14px}",
    ".anxin-banner[hidden]{display:none}",
    ".anxin-log{flex:1;overflow-y:auto;padding:12px;-webkit-overflow-scrolling:touch}",
    ".anxin-msg{display:flex;margin:8px 0}",
    ".anxin-user{justify-content:flex-end}",
    ".anxin-bubble{max-width:80%;padding:8px 12px;border-radius:12px;white-space:pre-wrap;word-break:break-word}",
    ".anxin-bot .anxin-bubble{background:#fff;border-top-left-radius:2px}",
    ".anxin-user .anxin-bubble{background:#ffe3d3;border-top-right-radius:2px}",
    ".anxin-note{justify-content:center}",
    ".anxin-note .anxin-bubble{background:transparent;color:#888;font-size:12px;padding:2px 8px}",
    ".anxin-note.anxin-error .anxin-bubble{color:#c0392b}",
    ".anxin-bubble img{display:block;max-width:100%;max-height:240px;border-radius:8px}",
    ".anxin-buttons{display:flex;flex-wrap:wrap;gap:6px;margin-top:8px}",
    ".anxin-buttons button{border:1px solid #ff5000;background:#fff;color:#ff5000;border-radius:16px;padding:5px 12px;font-size:14px;cursor:pointer}",
    ".anxin-buttons button:disabled{border-color:#ccc;color:#aaa;cursor:default}",
    ".anxin-typing[hidden]{display:none}",
    ".anxin-typing .anxin-bubble{color:#888}",
    ".anxin-typing .anxin-dot{display:inline-block;animation:anxin-blink 1.2s infinite both}",
    ".anxin-typing .anxin-dot:nth-child(2){animation-delay:.2s}.anxin-typing .anxin-dot:nth-child(3){animation-delay:.4s}",
    "@keyframes anxin-blink{0%,80%,100%{opacity:.2}40%{opacity:1}}",
    ".anxin-form{display:flex;gap:6px;padding:8px;background:#fff;border-top:1px solid #e5e5e5;padding-bottom:calc(8px + env(safe-area-inset-bottom))}",
    ".anxin-input{flex:1;min-width:0;border:1px solid #ddd;border-radius:18px;padding:8px 12px;font-size:16px}",
    ".anxin-photo,.anxin-send{border:0;border-radius:18px;padding:0 14px;font-size:15px;cursor:pointer;white-space:nowrap}",
    ".anxin-photo{background:#f0f0f0;color:#333}",
    ".anxin-send{background:#ff5000;color:#fff}",
    ".anxin-file{position:absolute;width:1px;height:1px;opacity:0;overflow:hidden}"
  ].join("\n");

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  function injectCss() {
    if (document.getElementById("anxin-widget-css")) return;
    var style = el("style");
    style.id = "anxin-widget-css";
    style.textContent = CSS;
    document.head.appendChild(style);
  }

  function loadSocketIo(server, done) {
    if (window.io) return done(null);
    var existing = document.getElementById("anxin-socketio");
    if (existing) {
      existing.addEventListener("load", function () { done(null); });
      existing.addEventListener("error", function () { done(new Error("load")); });
      return;
    }
    var tag = el("script");
    tag.id = "anxin-socketio";
    tag.src = server + "/webhooks/widget/socket.io.min.js";
    tag.onload = function () { done(window.io ? null : new Error("no io")); };
    tag.onerror = function () { done(new Error("load")); };
    document.head.appendChild(tag);
  }

  function Widget(options) {
    this.server = (options.server || "").replace(/\/+$/, "");
    this.identity = {};
    var self = this;
    ["buyer_id", "shop_id", "platform"].forEach(function (field) {
      if (options[field]) self.identity[field] = String(options[field]);
    });
    this.title = options.title || "安心售后助手";
    this.inline = !!options.container;
    this.storageKey = "anxin-widget:v1:" + (this.identity.shop_id || "-") + ":" + (this.identity.buyer_id || "-");
    this.state = this.load();
    this.confirmed = false;
    this.outbox = [];
    this.typingTimer = null;
    this.build(options.container, options.open);
    this.renderHistory();
    this.connect();
  }

  Widget.prototype.load = function () {
    try {
      var saved = JSON.parse(window.localStorage.getItem(this.storageKey) || "null");
      if (saved && typeof saved === "object" && Array.isArray(saved.history)) return saved;
    } catch (e) { /* unreadable storage: start over */ }
    return { sessionId: null, history: [], handoff: false };
  };

  Widget.prototype.save = function () {
    this.state.history = this.state.history.slice(-MAX_HISTORY);
    try { window.localStorage.setItem(this.storageKey, JSON.stringify(this.state)); } catch (e) { /* full or disabled */ }
  };

  Widget.prototype.build = function (container, open) {
    injectCss();
    var self = this;
    var root = el("div", "anxin-root " + (this.inline ? "anxin-inline" : "anxin-floating anxin-closed"));
    var panel = el("div", "anxin-panel");
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", this.title);
    var header = el("div", "anxin-header");
    header.appendChild(el("span", "anxin-title", this.title));
    this.statusEl = el("span", "anxin-status", "连接中…");
    header.appendChild(this.statusEl);
    var close = el("button", "anxin-close", "×");
    close.type = "button";
    close.setAttribute("aria-label", "关闭");
    close.onclick = function () { root.classList.add("anxin-closed"); };
    header.appendChild(close);
    panel.appendChild(header);

    this.banner = el("div", "anxin-banner", HANDOFF_TEXT + "，请稍候，客服会尽快回复您。");
    this.banner.setAttribute("role", "status");
    this.banner.hidden = !this.state.handoff;
    panel.appendChild(this.banner);

    this.log = el("div", "anxin-log");
    this.log.setAttribute("aria-live", "polite");
    this.typing = el("div", "anxin-msg anxin-bot anxin-typing");
    var dots = el("div", "anxin-bubble");
    dots.appendChild(document.createTextNode("对方正在输入"));
    for (var i = 0; i < 3; i++) dots.appendChild(el("span", "anxin-dot", "."));
    this.typing.appendChild(dots);
    this.typing.hidden = true;
    this.log.appendChild(this.typing);
    panel.appendChild(this.log);

    var form = el("form", "anxin-form");
    this.fileInput = el("input", "anxin-file");
    this.fileInput.type = "file";
    this.fileInput.accept = IMAGE_TYPES.join(",");
    this.fileInput.onchange = function () {
      var file = self.fileInput.files && self.fileInput.files[0];
      if (file) self.upload(file);
      self.fileInput.value = "";
    };
    var photo = el("button", "anxin-photo", "图片");
    photo.type = "button";
    photo.title = "上传照片";
    photo.onclick = function () { self.fileInput.click(); };
    this.input = el("input", "anxin-input");
    this.input.type = "text";
    this.input.placeholder = "请输入您的问题…";
    this.input.maxLength = 2000;
    this.input.setAttribute("enterkeyhint", "send");
    var send = el("button", "anxin-send", "发送");
    send.type = "submit";
    form.appendChild(this.fileInput);
    form.appendChild(photo);
    form.appendChild(this.input);
    form.appendChild(send);
    form.onsubmit = function (event) {
      event.preventDefault();
      var text = self.input.value.trim();
      if (!text) return;
      self.input.value = "";
      self.sendText(text, text);
    };
    panel.appendChild(form);
    root.appendChild(panel);

    if (!this.inline) {
      var launcher = el("button", "anxin-launcher", "联系客服");
      launcher.type = "button";
      launcher.onclick = function () {
        root.classList.toggle("anxin-closed");
        if (!root.classList.contains("anxin-closed")) { self.scroll(); self.input.focus(); }
      };
      root.appendChild(launcher);
      if (open) root.classList.remove("anxin-closed");
      document.body.appendChild(root);
    } else {
      container.appendChild(root);
    }
    this.root = root;
  };

  Widget.prototype.setStatus = function (text) { this.statusEl.textContent = text; };

  Widget.prototype.connect = function () {
    var self = this;
    loadSocketIo(this.server, function (error) {
      if (error) {
        self.setStatus("无法连接");
        self.note("聊天服务暂时无法连接，请稍后再试。", true);
        return;
      }
      var socket = window.io(self.server || undefined, {
        path: "/socket.io",
        transports: ["websocket", "polling"],
        reconnection: true,
        reconnectionDelay: 500,
        reconnectionDelayMax: 5000
      });
      self.socket = socket;
      socket.on("connect", function () {
        self.confirmed = false;
        self.setStatus("连接中…");
        // Ask for our stored session: Rasa (session_persistence) puts this socket in
        // its room, so the conversation continues after a reload or reconnect.
        socket.emit("session_request", { session_id: self.state.sessionId });
      });
      socket.on("session_confirm", function (sessionId) {
        var id = typeof sessionId === "string" ? sessionId : sessionId && sessionId.session_id;
        if (id) { self.state.sessionId = id; self.save(); }
        self.confirmed = true;
        self.setStatus("在线");
        self.root.setAttribute("data-session-id", self.state.sessionId || "");
        var waiting = self.outbox;
        self.outbox = [];
        waiting.forEach(function (payload) { self.emit(payload); });
      });
      socket.on("disconnect", function () {
        self.confirmed = false;
        self.setStatus("重新连接中…");
      });
      socket.on("connect_error", function () { self.setStatus("重新连接中…"); });
      socket.on("bot_uttered", function (message) { self.receive(message); });
    });
  };

  Widget.prototype.emit = function (payload) {
    if (!this.socket || !this.confirmed) { this.outbox.push(payload); return; }
    payload.session_id = this.state.sessionId;
    this.socket.emit("user_uttered", payload);
  };

  Widget.prototype.metadata = function (extra) {
    var metadata = {};
    for (var key in this.identity) metadata[key] = this.identity[key];
    for (var more in (extra || {})) metadata[more] = extra[more];
    return metadata;
  };

  /* Send `message` to the bot; show `shown` (a button's title, the typed text) as the buyer's bubble. */
  Widget.prototype.sendText = function (message, shown, extra, image) {
    this.add({ who: "user", text: shown, image: image || null });
    this.emit({ message: message, metadata: this.metadata(extra) });
    this.showTyping();
  };

  Widget.prototype.upload = function (file) {
    var self = this;
    if (IMAGE_TYPES.indexOf(file.type) < 0) return this.note("只支持 JPEG、PNG 或 WebP 格式的图片。", true);
    if (file.size > MAX_UPLOAD_BYTES) return this.note("图片太大了，请上传不超过 8 MB 的图片。", true);
    var body = new FormData();
    body.append("file", file, file.name || "photo");
    var pending = el("div", "anxin-msg anxin-note anxin-uploading");
    pending.appendChild(el("div", "anxin-bubble", "图片上传中…"));
    this.log.insertBefore(pending, this.typing);
    this.scroll();
    var done = function () { if (pending.parentNode) pending.parentNode.removeChild(pending); };
    fetch(this.server + "/webhooks/widget/upload", { method: "POST", body: body })
      .then(function (reply) {
        return reply.json().catch(function () { return {}; }).then(function (data) {
          if (!reply.ok || !data.url) throw new Error(data.message || "上传失败");
          return data;
        });
      })
      .then(function (data) {
        done();
        self.sendText("[图片]", "", { attachments: [{ type: "image", url: data.url }] }, data.url);
      })
      .catch(function (error) {
        done();
        self.note("图片上传失败：" + (error instanceof TypeError ? "网络连接失败，请稍后再试" : error.message), true);
      });
  };

  Widget.prototype.receive = function (message) {
    if (!message || typeof message !== "object") return;
    this.hideTyping();
    if (message.handoff === true) {
      this.state.handoff = true;
      this.banner.hidden = false;
      this.save();
      return;
    }
    var entry = { who: "bot", text: message.text || "", image: null, buttons: [] };
    var replies = message.quick_replies || message.buttons || [];
    if (Array.isArray(replies)) {
      entry.buttons = replies.filter(function (b) { return b && b.title; }).map(function (b) {
        return { title: String(b.title), payload: String(b.payload || b.title) };
      });
    }
    var attachment = message.attachment;
    if (attachment && attachment.type === "image" && attachment.payload && attachment.payload.src) {
      entry.image = String(attachment.payload.src);
    } else if (message.image) {
      entry.image = String(message.image);
    }
    if (!entry.text && !entry.image && !entry.buttons.length) return;
    if (this.state.handoff && entry.text) {
      // The bot speaks again: the agent handed the conversation back.
      this.state.handoff = false;
      this.banner.hidden = true;
    }
    this.add(entry);
  };

  Widget.prototype.add = function (entry) {
    this.state.history.push(entry);
    this.save();
    this.render(entry, this.state.history.length - 1);
    this.scroll();
  };

  Widget.prototype.note = function (text, isError) {
    this.add({ who: "note", text: text, error: !!isError });
  };

  Widget.prototype.renderHistory = function () {
    var self = this;
    this.state.history.forEach(function (entry, index) { self.render(entry, index); });
    this.scroll();
  };

  Widget.prototype.render = function (entry, index) {
    var self = this;
    var row = el("div", "anxin-msg anxin-" + entry.who + (entry.error ? " anxin-error" : ""));
    var bubble = el("div", "anxin-bubble");
    if (entry.text) bubble.appendChild(el("div", "anxin-text", entry.text));
    if (entry.image) {
      var img = el("img");
      img.src = entry.image;
      img.alt = "图片";
      img.onload = function () { self.scroll(); };
      bubble.appendChild(img);
    }
    if (entry.buttons && entry.buttons.length) {
      var group = el("div", "anxin-buttons");
      entry.buttons.forEach(function (button) {
        var node = el("button", null, button.title);
        node.type = "button";
        node.disabled = !!entry.used;
        node.onclick = function () {
          entry.used = true;
          self.state.history[index] = entry;
          Array.prototype.forEach.call(group.children, function (b) { b.disabled = true; });
          self.sendText(button.payload, button.title);
        };
        group.appendChild(node);
      });
      bubble.appendChild(group);
    }
    row.appendChild(bubble);
    this.log.insertBefore(row, this.typing);
  };

  Widget.prototype.showTyping = function () {
    var self = this;
    if (this.state.handoff) return; // a person answers; no "bot is typing"
    this.typing.hidden = false;
    this.scroll();
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(function () { self.hideTyping(); }, TYPING_TIMEOUT_MS);
  };

  Widget.prototype.hideTyping = function () {
    clearTimeout(this.typingTimer);
    this.typing.hidden = true;
  };

  Widget.prototype.scroll = function () { this.log.scrollTop = this.log.scrollHeight; };

  /* Forget this buyer's conversation in this browser (a new session on the next load). */
  Widget.prototype.reset = function () {
    try { window.localStorage.removeItem(this.storageKey); } catch (e) { /* ignore */ }
  };

  function scriptOrigin() {
    try { return new URL(SCRIPT.src, window.location.href).origin; } catch (e) { return window.location.origin; }
  }

  var api = {
    /* options: buyer_id, shop_id, platform, server, title, open, container (inline mode) */
    mount: function (options) {
      options = options || {};
      if (!options.server) options.server = SCRIPT ? scriptOrigin() : window.location.origin;
      if (typeof options.container === "string") options.container = document.querySelector(options.container);
      var widget = new Widget(options);
      api.instance = widget;
      return widget;
    }
  };
  window.AnxinWidget = api;

  if (SCRIPT && SCRIPT.getAttribute("data-mode") !== "manual") {
    var data = SCRIPT.dataset;
    var start = function () {
      api.mount({
        buyer_id: data.buyerId, shop_id: data.shopId, platform: data.platform,
        server: data.server, title: data.title, open: data.open === "true"
      });
    };
    if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
  }
})();
