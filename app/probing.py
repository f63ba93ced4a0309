"""The window's commands for probes, teaching and a second run, apart from the rest of it.

``ProbingWindow`` is a part of ``app.window.MainWindow`` (which inherits it): what it adds works
on the window's ``run`` and ``view`` like everything else, and it is drawn from them.

- **Probes** live in the run's history (``History.probes``, saved with it). The strip shows,
  for the run and the second run if there is one, each probe's answers at every moment
  (``core.probes.Timeline``, computed from the moments' weights) and now. Choosing a probe
  makes it the input every panel shows (``View.probe``); a test digit is chosen as a digit.
- **Teaching** adds the drawing, with a label, to the run's history (``History.taught``) and
  so to its trainer (``Trainer.teach``, with the copies of ``core.probes.taught_set``). A run
  going on stops at its next batch, takes the drawing, and goes on.
- **A second run** (``app.comparison.Comparison``) trains beside the first, started, paused,
  stepped and stopped with it; its curves are drawn over the first's, its panels in its dock.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Slot
from PySide6.QtWidgets import QFileDialog

from app import files, theme
from app.comparison import Comparison
from app.panels.probes import RunLine
from core.compare import describe
from core.config import preset
from core.errors import UserError
from core.probes import MAX_PROBES, MAX_TAUGHT, Probe, Timeline, default_probes, probe_outputs, taught_set


class ProbingWindow:
    """Mixed into MainWindow: needs its run, view, data, pad, probes and second panels."""

    comparison: Comparison | None = None

    # --- probes ------------------------------------------------------------------------------

    def _probes_for(self, history, previous: tuple[Probe, ...]) -> None:
        """A new run's probes: its own if its file has some, else those followed until now,
        else the default twelve."""
        if not history.probes:
            history.probes = previous or default_probes(self.data.x_test, self.data.y_test)
        self.probes.set_probes(history.probes)
        self.probes.set_taught(history.taught)

    def _set_probes(self, probes: tuple[Probe, ...]) -> None:
        self.run.history.probes = tuple(probes)
        self.probes.set_probes(self.run.history.probes)
        self._set_view(probe=None)

    @Slot()
    def pin_digit(self) -> None:
        """Follow the test digit shown as a probe (if not followed already)."""
        probes = self.run.history.probes
        d = self.view.digit
        if any(p.index == d for p in probes):
            self.status.showMessage(f"Test digit {d} is followed already.", 5000)
            return
        if len(probes) >= MAX_PROBES:
            self.show_error(f"{MAX_PROBES} probes are followed already: remove one first.")
            return
        self._set_probes(probes + (Probe.of(self.data.x_test[d], int(self.data.y_test[d]),
                                            f"test digit {d}", d),))

    @Slot()
    def pin_drawing(self) -> None:
        drawing = self.pad.current_input()
        if drawing is None:
            self.show_error("There is no drawing to pin: draw a digit on the pad first.")
            return
        probes = self.run.history.probes
        if len(probes) >= MAX_PROBES:
            self.show_error(f"{MAX_PROBES} probes are followed already: remove one first.")
            return
        label = self.probes.label_box.value()
        self._set_probes(probes + (Probe.of(drawing, label, f"drawing of a {label}"),))

    @Slot(int)
    def remove_probe(self, index) -> None:
        probes = self.run.history.probes
        if index is not None and 0 <= index < len(probes):
            self.probes.set_choice(None)
            self._set_probes(probes[:index] + probes[index + 1:])

    @Slot()
    def reset_probes(self) -> None:
        self.probes.set_choice(None)
        self._set_probes(default_probes(self.data.x_test, self.data.y_test))

    @Slot(int)
    def choose_probe(self, index: int) -> None:
        """The probe clicked becomes what every panel shows: as a test digit if it is one."""
        probes = self.run.history.probes
        if not 0 <= index < len(probes):
            return
        probe = probes[index]
        if self.pad.following:
            self.pad.follow_box.setChecked(False)
        if 0 <= probe.index < len(self.data.x_test):
            self._set_view(digit=probe.index, probe=None, follow=False)
            self.activations.choose(probe.index)
        else:
            self._set_view(probe=index, follow=False)

    def _probe_input(self) -> tuple[np.ndarray, int | None, tuple] | None:
        """The chosen probe as the input of the panels, if a drawing probe is chosen."""
        probes = self.run.history.probes if self.run is not None else ()
        i = self.view.probe
        if i is None or i >= len(probes):
            return None
        p = probes[i]
        return p.image, (p.label if p.label >= 0 else None), ("probe", id(p))

    def _draw_probes(self) -> None:
        """The strip: every run's answers for every probe, at its moments and now."""
        if not self._seen(self.probes_dock):
            return
        probes = self.run.history.probes
        runs = [("A", theme.COST, self.run)]
        if self.comparison is not None:
            runs.append(("B", theme.SECOND, self.comparison.run))
        lines, cursor = [], []
        position = self._at()[2]
        for name, colour, run in runs:
            timeline = run.probe_timeline
            if timeline.probes is not probes:
                timeline = run.probe_timeline = Timeline(probes)
            outputs = timeline.outputs(run.history)
            newest = run.history.moments[-1].step if len(run.history) else -1
            live = probe_outputs(run.live, timeline.images) if run.live.step > newest else None
            key = (id(timeline), len(outputs), run.live.step if live is not None else None)
            lines.append((key, RunLine(name, colour, outputs, live)))
            cursor.append(self.view.moment if run is self.run else self.comparison.moment_for(position))
        key = (tuple(k for k, _ in lines), tuple(cursor))
        if self._drawn.get("probes") != key:
            self.probes.set_runs(tuple(line for _, line in lines), tuple(cursor))
            self._drawn["probes"] = key

    # --- teaching ----------------------------------------------------------------------------

    @Slot(int)
    def teach(self, label: int) -> None:
        """Add the drawing, as ``label``, to the training data of the run (and follow it)."""
        drawing = self.pad.current_input()
        if drawing is None:
            self.show_error("There is no drawing to teach: draw a digit on the pad first.")
            return
        history = self.run.history
        if len(history.taught) >= MAX_TAUGHT:
            self.show_error(f"{MAX_TAUGHT} drawings are taught already: forget one first.")
            return
        probe = Probe.of(drawing, label, f"drawing taught as {label}")
        self._retrain(history.taught + (probe,))
        kept = history.probes[len(history.probes) - MAX_PROBES + 1:] if len(history.probes) >= MAX_PROBES \
            else history.probes  # full: the oldest probe makes room, so its learning can be watched
        self._set_probes(kept + (probe,))
        self.status.showMessage(f"Taught the drawing as {label}, with {len(taught_set((probe,))[0]) - 1} "
                                f"moved copies: press Train and watch its probe.", 10000)

    @Slot(int)
    def forget_taught(self, index: int) -> None:
        taught = self.run.history.taught
        if 0 <= index < len(taught):
            self._retrain(taught[:index] + taught[index + 1:])

    def _retrain(self, taught: tuple[Probe, ...]) -> None:
        """The run's taught drawings become ``taught``; a run going on goes on with them."""
        going = self.training is not None and not self.training.control.paused
        if self.training is not None:
            self._stop_and_wait()
        self.run.history.taught = tuple(taught)
        self.run.trainer.teach(*(taught_set(taught, self.run.config.seed) or (None,)))
        self.probes.set_taught(self.run.history.taught)
        if going:
            self._start()

    @Slot()
    def restart(self) -> None:
        """Train again from this run's own initial weights (kept exactly in its history), with
        its settings, its probes and what it was taught: with the same seed the run repeats bit
        for bit, whatever seed the form says now."""
        initial = self.run.history.initial
        if initial is None:
            self.show_error("This run's initial weights were not kept (it was saved by an older "
                            "version, or trained on from one): Reset starts from the seed instead.")
            return
        if not self.may_discard("Reset"):
            return
        self._stop_and_wait()
        old = self.run.history
        config = self.run.trainer.config.replace(epochs=self.form.config().epochs)
        if self._new_run(config, initial.network(copy=True)):
            self.run.history.initial, self.run.history.taught = initial, old.taught
            self.run.trainer.teach(*(taught_set(old.taught, config.seed) or (None,)))
            self.probes.set_taught(old.taught)
        self._update_controls()

    # --- a second run ------------------------------------------------------------------------

    def compare_with(self, name: str) -> None:
        """Train preset ``name`` beside the run, with the form's seed and epochs."""
        config = self._config()
        if config is None or self.data is None:
            return
        try:
            other = preset(name, self.data.digits).replace(seed=config.seed, epochs=config.epochs)
        except UserError as exc:
            self.show_error(str(exc))
            return
        self._set_comparison(Comparison.of_config(self.data, other, name, self.use_process))

    def compare_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Compare with a saved run",
                                              files.last_folder(self.settings),
                                              "Models (*.npz);;All files (*)")
        if self._chosen(path):
            self.compare_with_file(path)

    @Slot()
    def side_by_side(self) -> None:
        """The story in one click: the original network (classic) against a modern one (fast),
        trained together from the same seed."""
        if not self.may_discard("Reset"):
            return
        self._stop_and_wait()
        self.form.set_config(preset("classic").replace(seed=self.form.config().seed), "classic")
        self._new_run()
        self.compare_with("fast")
        self.train()

    def compare_again(self, config) -> None:
        """Reset: the second run afresh from its settings, with the seed of ``config``."""
        c = self.comparison
        other = c.run.config.replace(seed=config.seed, epochs=config.epochs)
        self._set_comparison(Comparison.of_config(self.data, other, c.name, self.use_process))

    @Slot()
    def stop_comparing(self) -> None:
        self._set_comparison(None)

    def _set_comparison(self, comparison: Comparison | None) -> None:
        if self.comparison is not None:
            self.comparison.ended.disconnect(self._on_comparison_ended)
            self.comparison.close()
        self.comparison = comparison
        self.second.set_comparison(comparison, self.data.x_test if self.data is not None else None)
        if comparison is None:
            self.cost.other.clear()
        else:
            comparison.ended.connect(self._on_comparison_ended)
            self.cost.other.clear(self._legend())
            self.cost.other.add(comparison.run.history, comparison.run.batches_per_epoch)
            self.second_dock.raise_()
        if self.training is not None and comparison is not None:  # joins the run going on
            config = self.run.trainer.config
            comparison.start(max(config.epochs - self.run.epochs_done, 1), config.seed,
                             paused=self.training.control.paused)
            self.timer.start()
        self._update_controls()
        self._render()

    def _legend(self) -> str:
        a = (f"<span style='color:{theme.COST}'>━ A: {describe(self.run.config)}</span>")
        b = f"<span style='color:{theme.SECOND}'>━ {self.comparison.label}</span>"
        return f"{a}&nbsp;&nbsp;&nbsp;{b}"

    @Slot(str)
    def _on_comparison_ended(self, failure: str) -> None:
        self._draw_comparison(everything=True)
        if self.training is None:
            self.timer.stop()
        if failure:
            self.show_error(f"The second run: {failure}")
        self._update_status()

    def _draw_comparison(self, everything: bool = False) -> None:
        """What the second run posted, into its curves, its dock and the probe strip."""
        c = self.comparison
        if c is None:
            return
        c.take()
        self.cost.other.add(c.run.history, c.run.batches_per_epoch)
        if everything or self._seen(self.second_dock):
            self.second.draw(c, c.moment_for(self._at()[2]), self._reading(c))

    def _reading(self, c: Comparison) -> str:
        """How the second run reads the input shown: "reads the drawing as 7 (98%)", or as a
        class of another dataset by its name: "reads test image 3 as Sneaker (91%)"."""
        x, _, key = self._input()
        if x is None:
            return ""
        snapshot = c.run.at(c.moment_for(self._at()[2]))[0]
        with np.errstate(over="ignore", invalid="ignore"):
            a = snapshot.network().predict_proba(np.asarray(x).reshape(1, -1))[0]
        image = "digit" if self.data.digits else "image"
        what = {"drawing": "the drawing", "digit": f"test {image} {self.view.digit}"}.get(key[0], "the probe")
        return f"reads {what} as {self.data.class_names[int(a.argmax())]} ({a.max():.0%})"

