"""`make run`'s output: one line per stage, whatever the training thread's libraries print meanwhile."""

from __future__ import annotations

import io
import sys
import threading
from pathlib import Path

from prometeo_dev.stack import _thread_output_to


def test_what_the_training_thread_prints_goes_to_its_log_and_the_rest_to_the_terminal(tmp_path: Path) -> None:
    terminal = io.StringIO()
    log = tmp_path / "logs" / "training.log"
    saved = sys.stdout
    sys.stdout = terminal
    try:
        with _thread_output_to("trainer", log):
            worker = threading.Thread(target=lambda: print("Created version '1' of model"), name="trainer")
            worker.start()
            worker.join()
            print("prometeo trained")
        print("prometeo running")
    finally:
        sys.stdout = saved
    assert terminal.getvalue() == "prometeo trained\nprometeo running\n"
    assert log.read_text() == "Created version '1' of model\n"
