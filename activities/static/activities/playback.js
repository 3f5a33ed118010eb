// Replays an activity from the playback JSON (columnar samples on a regular axis): a
// position that moves at 1×–300× the recorded pace, the range input to scrub it, and the
// readouts. Whoever shows the position (route marker, chart cursor) listens to onMove.

const known = (v) => v !== null && v !== undefined && Number.isFinite(v);
const CHANNELS = ["lat", "lon", "elapsed_s", "distance_m", "speed_mps", "hr_bpm", "ele_m"];

function valueAt(series, p) {
  if (!series) return null;
  const i = Math.floor(p);
  const a = series[i];
  const b = series[Math.min(i + 1, series.length - 1)];
  const t = p - i;
  if (known(a) && known(b)) return a + (b - a) * t;
  return t < 0.5 ? (known(a) ? a : null) : (known(b) ? b : null);
}

export class Playback {
  constructor(data, { elements, fmt, pace, onMove }) {
    this.data = data;
    this.el = elements;
    this.fmt = fmt;
    this.pace = pace;
    this.onMove = onMove;
    this.last = data.count - 1;
    // Samples per second of replay at 1×: the time axis is real time; without time, a
    // sample a second is as good a pace as any.
    this.rate = data.axis === "time" ? 1 / data.step : 1;
    this.position = 0;
    this.playing = false;
    this.frameTime = null;
    this.el.range.max = String(Math.max(this.last, 0));
    this.bind();
    this.render();
  }

  bind() {
    const { play, range, speed, root } = this.el;
    play.addEventListener("click", () => this.toggle());
    range.addEventListener("input", () => {
      this.position = range.valueAsNumber;
      this.render();
    });
    // Space anywhere on the page plays or pauses, as on a video page, except where it
    // means something else (a button presses, a field types a space, a link scrolls);
    // arrow keys stay the slider's own (one sample a press, Page Up/Down for more).
    document.addEventListener("keydown", (event) => {
      const control = event.target.closest?.(
        "button, select, a, textarea, input:not([type=range]), [contenteditable]");
      const modified = event.ctrlKey || event.metaKey || event.altKey;
      if (event.key === " " && !control && !modified && !root.hidden && !play.hidden) {
        event.preventDefault();
        this.toggle();
      }
    });
    speed.addEventListener("change", () => { this.frameTime = null; });
  }

  get speed() {
    return Number(this.el.speed.value) || 1;
  }

  toggle() {
    if (this.playing) this.pause();
    else this.play();
  }

  play() {
    if (this.last <= 0) return;
    if (this.position >= this.last) this.position = 0;
    this.playing = true;
    this.frameTime = null;
    this.el.play.textContent = "Pause";
    this.el.play.setAttribute("aria-pressed", "true");
    this.el.root.dataset.playing = "true";
    requestAnimationFrame((now) => this.frame(now));
  }

  pause() {
    this.playing = false;
    this.el.play.textContent = "Play";
    this.el.play.setAttribute("aria-pressed", "false");
    this.el.root.dataset.playing = "false";
  }

  frame(now) {
    if (!this.playing) return;
    if (this.frameTime !== null) {
      // A hidden tab sends no frames: cap the step so that coming back is not a jump.
      const seconds = Math.min((now - this.frameTime) / 1000, 0.25);
      this.position = Math.min(this.last, this.position + seconds * this.speed * this.rate);
    }
    this.frameTime = now;
    this.render();
    if (this.position >= this.last) this.pause();
    else requestAnimationFrame((next) => this.frame(next));
  }

  sample() {
    const at = Object.fromEntries(CHANNELS.map((name) => [name, valueAt(this.data[name], this.position)]));
    // Recording time (pauses cut out), the charts' time axis.
    at.time_s = this.data.axis === "time" ? this.position * this.data.step : null;
    return at;
  }

  render() {
    const s = this.sample();
    const fmt = this.fmt;
    const { readouts, range } = this.el;
    readouts.elapsed.textContent = fmt.duration(s.elapsed_s);
    readouts.distance.textContent = fmt.distance(s.distance_m);
    readouts.speed.textContent = this.pace ? fmt.pace(s.speed_mps) : fmt.speed(s.speed_mps);
    readouts.hr.textContent = fmt.hr(s.hr_bpm);
    readouts.ele.textContent = fmt.elevation(s.ele_m);
    const index = Math.round(this.position);
    if (range.valueAsNumber !== index) range.value = String(index);
    range.setAttribute("aria-valuetext", known(s.elapsed_s)
      ? `${fmt.duration(s.elapsed_s)} elapsed, ${fmt.distance(s.distance_m)}`
      : `${fmt.distance(s.distance_m)}`);
    this.onMove(s);
  }
}
