"""The benchmark runs end to end and refuses bad flags; its figures are read by people, not tests."""
import pytest

from core import bench


def test_a_quick_run_prints_every_section(capsys):
    assert bench.main(["--no-keras", "--limit", "1000", "--epochs", "2", "--calls", "20"]) == 0
    out = capsys.readouterr().out
    for heading in ("setup", "threads fixed for this run: 1", "classic:", "fast:",
                    "time to 98% test accuracy", "one-image latency", "summary", "classic epoch: numpy"):
        assert heading in out


@pytest.mark.parametrize("flag", ["--threads", "--epochs", "--calls", "--limit"])
def test_flags_below_one_are_one_sentence(capsys, flag):
    with pytest.raises(SystemExit) as exit_info:
        bench.main([flag, "0"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "must be at least 1, got 0" in err


def test_ratio_reads_the_right_way_round():
    assert bench.compare(1.0, 2.0).startswith("numpy is 2.0x faster")
    assert bench.compare(2.0, 1.0).startswith("keras is 2.0x faster")
    assert bench.percentile(list(range(1, 101)), 99) == 99
