// 撤回授权: the enterprise withdraws its consent to the privacy notice (PIPL Art. 47). A button in
// the header opens a confirmation; confirmed, the server erases the contact details from the
// desk's records, this conversation's transcript and the bot's memory, and the page shows the
// erased conversation again with the server's note of what was erased and what is kept.
(function () {
  "use strict";
  const chat = window.qclinicChat;
  const opener = document.getElementById("privacy-withdraw");
  const dialog = document.getElementById("privacy-dialog");
  const confirmButton = document.getElementById("privacy-confirm");
  const cancelButton = document.getElementById("privacy-cancel");
  const problem = document.getElementById("privacy-problem");
  if (!chat || !opener || !dialog) return;

  function close() {
    dialog.hidden = true;
    problem.textContent = "";
    opener.focus();
  }
  opener.addEventListener("click", function () {
    dialog.hidden = false;
    confirmButton.disabled = false;
    cancelButton.focus();
  });
  cancelButton.addEventListener("click", close);
  dialog.addEventListener("keydown", function (ev) { if (ev.key === "Escape") close(); });

  confirmButton.addEventListener("click", async function () {
    confirmButton.disabled = true;
    problem.textContent = "";
    try {
      const res = await fetch("/api/chat/privacy/withdraw", {
        method: "POST", headers: {"Content-Type": "application/json"},
        body: JSON.stringify({conversation_id: chat.cid})
      });
      const data = await res.json();
      if (!res.ok) {
        const detail = data && data.detail;
        problem.textContent = (detail && detail.message) || "撤回授权未成功，请稍后重试。";
        confirmButton.disabled = false;
        return;
      }
      dialog.hidden = true;
      await chat.reload();  // what the page showed before still held the erased details
      data.messages.forEach(chat.render);
    } catch (e) {
      problem.textContent = "网络连接中断，撤回授权未完成，请稍后重试。";
      confirmButton.disabled = false;
    }
  });
})();
