"""The panels of the main window. Each is a QWidget built once; its plot items are created in
``__init__`` and afterwards only fed (``setData``, ``setImage(..., levels=...)``), never rebuilt,
so the number of plot items stays constant however long training runs.

The contract every panel keeps:

- It draws what it is handed and computes nothing beyond reshaping: the numbers come from
  ``core`` (``core.train.Snapshot``, ``core.train.EpochReport``, ``core.inspect``).
- What it is handed is immutable: a ``Snapshot``'s arrays are read-only copies, so a panel may
  keep them (pyqtgraph keeps a *view* of the arrays it is given).
- It is called on the GUI thread only, by the window's redraw timer (about 25 times a second
  while training) or by a user action; a call must take well under a frame (a few ms).
- Layers are counted as in ``core.inspect``: layer 0 is the input, layer l >= 1 is computed by
  W[l-1]; a neuron is (layer, index), index 0-based.

Panels and their methods:

``CostPanel`` (cost.py)
    reset(); add_batches(steps, costs, batches_per_epoch); add_epoch(report: EpochReport)

``WeightsPanel`` (weights.py)
    show_snapshot(snapshot); set_selection(layer, neuron) or set_selection(None, None);
    signal neuron_clicked(int layer, int neuron)

``ActivationsPanel`` (activations.py)
    set_dataset(x_test, y_test); show_snapshot(snapshot); set_selection(layer, neuron);
    current_index (property); signals digit_changed(int index), neuron_clicked(int, int)

``InspectorPanel`` (inspector.py)
    show_neuron(snapshot, layer, neuron, x, top); clear()

``FlowPanel`` (flow.py)
    reset(n_layers, sizes=None); add_batches(positions, flow, records_per_epoch);
    show_position(position) or show_position(None) for the present

``HealthPanel`` (health.py)
    set_history(history, x_test, y_test); show_moment(index) or show_moment(None) for the
    newest; clear(); finish() (computes every moment now; otherwise a timer does, while shown)
"""
