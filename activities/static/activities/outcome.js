// What came of an upload, in words a person reads: the activity's distance and time once
// it is ready (from its JSON), the reason when it failed. The internal steps stay on the
// activity's debug timeline. Used by this visit's uploads and the recent-uploads table.
import { watch } from "./poll.js";
import { makeFormat } from "./format.js";

const fmt = makeFormat(document.body.dataset.units);

// "9.01 km · 47:12", or "" when the activity has neither.
export async function activityResult(activityId) {
  try {
    const response = await fetch(`/api/v1/activities/${activityId}`, {
      headers: { Accept: "application/json" }, credentials: "same-origin",
    });
    if (!response.ok) return "";
    const activity = await response.json();
    return [activity.distance_m ? fmt.distance(activity.distance_m) : "",
            activity.elapsed_s ? fmt.duration(activity.elapsed_s) : ""]
      .filter(Boolean).join(" · ");
  } catch {
    return "";
  }
}

// The recent-uploads table follows its unsettled rows while the page is open.
export function followRecent(table) {
  if (!table) return;
  for (const row of table.querySelectorAll("tbody tr")) {
    const { uploadId, status } = row.dataset;
    if (status !== "queued" && status !== "processing") continue;
    const badge = row.querySelector(".badge");
    const result = row.querySelector(".result");
    const show = (upload) => {
      row.dataset.status = upload.status;
      badge.textContent = upload.status;
      badge.className = `badge status-${upload.status}`;
    };
    watch(`/api/v1/uploads/${uploadId}`, { onUpdate: show }).then(async (upload) => {
      show(upload);
      if (upload.status === "failed") {
        result.classList.add("error");
        result.textContent = upload.problem || "Processing failed.";
      } else if (upload.activity_id) {
        result.textContent = await activityResult(upload.activity_id);
      }
    });
  }
}
