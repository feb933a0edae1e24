/* The web chat's upload button: registration materials (营业执照, 资质证书, 诚信承诺书, 身份证扫描件).
 * The file goes to POST /api/chat/uploads with the conversation's id; the server stores it
 * (PDF, JPG or PNG by content, within the size limit) and tells the bot, whose replies come back
 * here. Refusals (not registered yet, too large, wrong type) are shown as the server words them.
 * The button is always there with its label, and is highlighted while the bot asks for a file.
 */
(function () {
  "use strict";
  const chat = window.qclinicChat;
  const button = document.getElementById("upload");
  const log = document.getElementById("log");
  if (!chat || !button || !log) return;

  const style = document.createElement("style");
  style.textContent =
    "#upload { background: #fff; color: var(--brand); border: 1px solid var(--brand);" +
    " border-radius: 8px; padding: 0 12px; font-size: 15px; white-space: nowrap; cursor: pointer; }" +
    "#upload.wanted { background: #e8f0fe; box-shadow: 0 0 0 3px rgba(31,111,235,.25); }" +
    "#upload:disabled { opacity: .6; cursor: wait; }" +
    "@media (max-width: 480px) { #upload { padding: 0 8px; font-size: 14px; } }";
  document.head.appendChild(style);

  const picker = document.createElement("input");
  picker.type = "file";
  picker.accept = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png";
  picker.hidden = true;
  picker.setAttribute("aria-label", "选择要上传的材料");
  button.after(picker);

  function newId() {
    const raw = crypto.randomUUID ? crypto.randomUUID()
      : String(Date.now()) + Math.random().toString(36).slice(2);
    return raw.replace(/[^A-Za-z0-9_-]/g, "").slice(0, 32);
  }

  async function send(file) {
    const messageId = newId();
    chat.render({sender: "user", text: "[上传材料] " + file.name});
    const form = new FormData();
    form.append("conversation_id", chat.cid);
    form.append("message_id", messageId);
    form.append("file", file, file.name);
    button.disabled = true;
    button.textContent = "上传中…";
    try {
      const res = await fetch("/api/chat/uploads", {method: "POST", body: form});
      let data = null;
      try { data = await res.json(); } catch (e) { data = null; }
      if (!res.ok) {
        const detail = data && data.detail;
        const text = (detail && detail.message) ||
          (res.status === 413 ? "文件太大，请压缩后重新上传。" : "上传失败，请稍后重试。");
        chat.render({sender: "system", text: text});
        return;
      }
      (data.messages || []).forEach(function (m) { chat.render(m); });
    } catch (e) {
      chat.render({sender: "system", text: "网络连接中断，文件可能未上传成功，请重新上传。"});
    } finally {
      button.disabled = false;
      button.textContent = "上传材料";
    }
  }

  button.addEventListener("click", function () { picker.click(); });
  picker.addEventListener("change", function () {
    const file = picker.files && picker.files[0];
    picker.value = "";
    if (file) send(file);
  });

  // highlighted while the bot's latest message asks for a file
  function update() {
    const bubbles = log.querySelectorAll(".msg.bot .bubble");
    const last = bubbles.length ? bubbles[bubbles.length - 1].textContent : "";
    button.classList.toggle("wanted", /请上传|上传材料/.test(last || ""));
  }
  new MutationObserver(update).observe(log, {childList: true});
  update();
})();
