"""Check a folder of episode files: count episodes and frames, list the bad ones.

    python check_record.py record

Exit status 0 when every file is good, 1 when some are bad (they are listed), 2 when
the folder is missing or holds no episode files.
"""

from __future__ import annotations

import numerics  # noqa: F401 - first of all: numpy's arithmetic pinned before it loads

# isort: split

import sys

from common import ArgumentParser, EpisodeError, list_episode_files, load_episode, run_main


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(description="Check a folder of episode files (*.npz).")
    parser.add_argument("data", nargs="?", default="record", help="folder (default: record)")
    args = parser.parse_args(argv)

    files = list_episode_files(args.data)
    frames, lengths, bad = 0, [], []
    for path in files:
        try:
            episode = load_episode(path)
        except EpisodeError as e:
            bad.append(str(e))
            continue
        lengths.append(len(episode["obs"]))
        frames += lengths[-1]
    print(
        f"{args.data}: {len(lengths)} good episodes, {frames} frames"
        + (f" (length {min(lengths)}..{max(lengths)})" if lengths else "")
    )
    for line in bad:
        print(f"bad: {line}")
    if bad:
        print(f"{args.data}: {len(bad)} bad file(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
