"""A reader that leaves early (`python -m engine strategies | head -1`) ends the command
quietly: no BrokenPipeError traceback on stderr."""

import subprocess
import sys

from tests.conftest import ROOT


def test_a_reader_leaving_early_ends_the_command_without_a_traceback(env):
    proc = subprocess.Popen([sys.executable, "-m", "engine", "strategies"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the first line (`… | true`)
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0
    assert "Traceback" not in stderr
    assert stderr == ""
