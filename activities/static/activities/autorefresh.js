// Reloads the page every data-seconds while the "Refresh every …" box stays ticked (a
// meta refresh could not be paused), keeping the box's state across reloads.
const box = document.getElementById("autorefresh");
if (box) {
  const key = `cairn-autorefresh:${location.pathname}`;
  box.checked = sessionStorage.getItem(key) !== "off";
  let timer = null;
  const arm = () => {
    clearTimeout(timer);
    sessionStorage.setItem(key, box.checked ? "on" : "off");
    if (box.checked) timer = setTimeout(() => location.reload(), Number(box.dataset.seconds) * 1000);
  };
  box.addEventListener("change", arm);
  box.closest("p").hidden = false;
  arm();
}
