"""Errors as sentences for the people who uploaded the file. The stored message is the
decoder's or the worker's own (the API and staff read it as it is: "Tried to read 1
bytes…"); pages say what happened and what to do, by the error's code, and keep the
stored message behind a "Technical details" disclosure."""

from __future__ import annotations

from dataclasses import dataclass

#: Error code -> what happened, in words anyone reads.
SENTENCES = {
    "CorruptFile": "This file is damaged or incomplete, so it cannot be read. If your "
                   "device or app can export the activity again, upload that copy.",
    "NoPoints": "This file holds no recorded points: there is nothing to show.",
    "NotAnActivity": "This is not an activity recording: it looks like another kind of "
                     "file from a device (settings, a course, a workout plan).",
    "NotAnActivityFile": "This is not a FIT, GPX or TCX file, so it was left out.",
    "UnsupportedFile": "This is not a FIT, GPX or TCX file, so it was left out.",
    "UnsafeXml": "This file uses XML features that are refused for safety, so it was "
                 "not read.",
    "UnsafeName": "This file's name inside the archive points outside it, so it was "
                  "not read.",
    "ZipBomb": "This file inflates to far more than an activity file could hold, so it "
               "was not read.",
    "OutOfMemory": "This file is too large to be processed on this server.",
    "OriginalMissing": "The uploaded file is no longer stored. Upload it again.",
    "InputMissing": "Part of the processing is missing; it will be redone.",
    "InputFailed": "An earlier step of the processing failed, so this one could not run.",
    "NestedArchive": "An archive inside the archive was not opened.",
    "ActivityList": "The export's list of activities: read for names and sports, not an "
                    "activity itself.",
    "EmptyArchive": "An empty archive inside the archive.",
    "TooDeep": "An archive nested too deep inside others was not opened.",
    "Missing": "The export's list names this activity, but its file is not in the archive.",
    "BadArchive": "This zip archive is damaged or incomplete, so its files cannot be read.",
    "TooManyFiles": "This archive holds more files than one upload may.",
}
#: Files that are no activity at all: reprocessing cannot make one of them.
NOT_ACTIVITIES = frozenset({"NotAnActivity", "NotAnActivityFile", "UnsupportedFile"})
#: Shown when a code has no sentence of its own and the message is not one.
FALLBACK = "Processing stopped on an unexpected problem. Reprocessing may help."
#: Codes whose stored message is already written for people (it names a limit, a list).
AS_WRITTEN = frozenset({"TooLarge", "Missing"})


@dataclass(frozen=True)
class Problem:
    sentence: str
    #: The stored message when it says more than the sentence ("" otherwise).
    details: str


def explain(code: str | None, message: str | None) -> Problem | None:
    """The sentence for an error (None when there is none)."""
    if not code and not message:
        return None
    message = message or ""
    if code in AS_WRITTEN and message:
        return Problem(message, "")
    sentence = SENTENCES.get(code or "")
    if sentence is None:
        sentence = message if _plain(message) else FALLBACK
    return Problem(sentence, "" if message == sentence else message)


def _plain(message: str) -> bool:
    """Whether a message reads as a sentence for people: no parser's aside in brackets,
    no exception names."""
    return bool(message) and "(" not in message and "Error" not in message
