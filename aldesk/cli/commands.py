"""The CLI's commands: each `cmd_*` takes parsed arguments and returns an exit code."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

from aldesk.core.errors import InputError, UnreadableFile, require_folder
from aldesk.core.jobs import ConsoleProgress, LocalJob


def default_annotator() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in the environment (some containers)
        return "unknown"


def _job() -> LocalJob:
    return LocalJob(ConsoleProgress())


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def cmd_new(args: argparse.Namespace) -> int:
    from aldesk.services.ingest import sync_folder
    from aldesk.store import Project
    from aldesk.store import classes as store_classes

    folders = [Path(f).expanduser() for f in args.folder]
    for folder in folders:
        require_folder(folder)
    names = [n for n in (args.classes or "").split(",") if n.strip()]
    cleaned = [store_classes.clean_name(n) for n in names]
    repeated = sorted({n for n in cleaned if [m.lower() for m in cleaned].count(n.lower()) > 1})
    if repeated:
        raise InputError(f"--classes lists {', '.join(repeated)} more than once")
    project = Project.create(args.project, label_mode=args.label_mode)
    try:
        if names:
            store_classes.add_classes(project, names)
        for folder in folders:
            print(sync_folder(project, folder, _job()).summary())
    except BaseException:
        project.close()
        remove_project_files(project.path)  # a refused `new` leaves nothing behind
        raise
    project.close()
    print(f"created {project.path}")
    return 0


def remove_project_files(path: Path) -> None:
    for leftover in (path, *path.parent.glob(path.name + "-*")):
        if leftover.is_file():
            leftover.unlink()


def _open_for_reading(path: str) -> Any:
    from aldesk.store import Project
    from aldesk.store.project import OutdatedProjectError

    try:
        return Project.open(path, readonly=True)
    except OutdatedProjectError:
        Project.open(path).close()  # migrates, when no one else has it open
        return Project.open(path, readonly=True)


def cmd_info(args: argparse.Namespace) -> int:
    from aldesk.services.info import format_info, project_info

    with _open_for_reading(args.project) as project:
        info = project_info(project)
    if args.json:
        _print_json(info)
    else:
        print(format_info(info))
    return 0


def cmd_import_labels(args: argparse.Namespace) -> int:
    from aldesk.services.labels_io import import_labels
    from aldesk.store import Project

    csv_path = Path(args.csv).expanduser()
    if csv_path.is_dir():
        raise InputError(f"{csv_path} is a folder, not a CSV file")
    with Project.open(args.project) as project:
        report = import_labels(project, csv_path, annotator=args.annotator,
                               add_classes=args.add_classes, skip_unmatched=args.skip_unmatched)
    print(report.summary())
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from aldesk.services.export import export_labels

    with _open_for_reading(args.project) as project:
        report = export_labels(project, args.format, Path(args.out), _job())
    print(report.summary())
    return 0


def cmd_relink(args: argparse.Namespace) -> int:
    from aldesk.services.ingest import relink_source
    from aldesk.store import Project

    with Project.open(args.project) as project:
        print(relink_source(project, args.old, Path(args.new).expanduser(), _job()).summary())
    return 0


def cmd_add_folder(args: argparse.Namespace) -> int:
    from aldesk.services.ingest import sync_folder
    from aldesk.store import Project

    with Project.open(args.project) as project:
        print(sync_folder(project, Path(args.folder).expanduser(), _job()).summary())
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from aldesk.services.demo import demo_project
    from aldesk.services.info import format_info, project_info

    path = demo_project(_job())
    with _open_for_reading(str(path)) as project:
        print(format_info(project_info(project)))
    digits = path.parent / "digits"
    print("\nOpen it in the app with 'aldesk demo' (or 'aldesk PATH'); from a terminal try\n"
          f"  aldesk simulate {digits} --out digits.json   (auto against random)\n"
          f"  aldesk queue {path} --top 10   (what to label first; once two classes have "
          "labels, 'aldesk train' ranks by what the model needs)")
    return 0


def cmd_scan(args: argparse.Namespace) -> int:
    from aldesk.services.scan import scan_folder

    result = scan_folder(Path(args.folder), _job())
    if args.json:
        _print_json(result)
        return 0
    for item in result["items"]:
        if item["status"] == "ok":
            size = f"{item['width']}x{item['height']}" + (
                f" x{item['frames']}" if (item["frames"] or 1) > 1 else "")
            print(f"ok     {item['kind']:<7} {size:<14} {item['path']}")
        else:
            print(f"error  {item['kind']:<7} {item['path']}: {item['reason']}")
    s = result["summary"]
    print(f"{s['files']} files: {s['ok']} ok, {s['error']} unreadable "
          f"({s['seconds']:.1f} s)")
    return 0


def _parse_window(text: str | None) -> Any:
    from aldesk.io.display import CT_PRESETS, Window

    if not text:
        return None
    if text.lower() in CT_PRESETS:
        return Window(*CT_PRESETS[text.lower()])
    try:
        center, width = (float(v) for v in text.split(","))
    except ValueError as err:
        raise InputError(
            f"--window takes CENTER,WIDTH (for example 40,400) or one of "
            f"{', '.join(CT_PRESETS)}; got {text!r}") from err
    if width <= 0:
        raise InputError("--window width must be positive")
    return Window(center, width)


def cmd_render(args: argparse.Namespace) -> int:
    from aldesk.io.render import render, save_png

    source, out = Path(args.file).expanduser(), Path(args.out).expanduser()
    if not source.is_file():
        raise InputError(f"{source} does not exist")
    if not out.parent.is_dir():
        raise InputError(f"folder {out.parent} does not exist")
    if args.frame is not None and args.frame < 0:
        raise InputError("--frame counts from 0")
    try:
        rendered = render(source, frame=args.frame, window=_parse_window(args.window))
    except UnreadableFile as err:
        raise UnreadableFile(f"{source}: {err}") from err
    save_png(rendered, out)
    window = f", window {rendered.window.describe()}" if rendered.window else ""
    print(f"wrote {out} ({rendered.width}x{rendered.height}, frame {rendered.frame} of "
          f"{rendered.frames}{window})")
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from aldesk.services.plot import plot_curves
    from aldesk.services.simulate import simulate

    out = Path(args.out).expanduser()
    if out.suffix.lower() == ".png":
        raise InputError("--out names the JSON file; the PNG of the curves is written beside it")
    if not out.parent.is_dir():
        raise InputError(f"folder {out.parent} does not exist")
    names = [n.strip() for n in args.strategies.split(",") if n.strip()]
    if not names:
        raise InputError("--strategies needs at least one name")
    result = simulate(Path(args.dataset), names, init=args.init, batch=args.batch,
                      budget=args.budget, seeds=args.seeds, representation=args.representation,
                      job=_job(), members=args.members)
    out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    plot = out.with_suffix(".png")
    plot_curves(result, plot, title=f"{Path(args.dataset).name}: {result['representation']}, "
                                     f"{args.seeds} seeds")
    unreadable = result["unreadable"]
    if unreadable:
        print(f"{len(unreadable)} files could not be read and were left out (all of them in "
              f"{out.name}, 'unreadable'):")
        for bad in unreadable[:3]:
            print(f"  {bad['path']}: {bad['reason']}")
    print(f"representation {result['representation']}: {result['representation_reason']}")
    for name in names:
        print(f"{name:<18} AUBC {result['aubc'][name]:.3f}   final "
              f"{result['curves'][name]['mean'][-1]:.3f}   {_stop_words(result['stopping'][name])}")
    print(f"full pool accuracy {result['full_pool_accuracy']:.3f}\nwrote {out} and {plot}")
    return 0


def _stop_words(stopping: dict[str, Any]) -> str:
    """Where each seed's run would have been told to stop, e.g. 'stop signal at 140 (0.951),
    never'."""
    at = [("never" if n is None else f"{n} ({a:.3f})")
          for n, a in zip(stopping["labels"], stopping["accuracy"], strict=True)]
    return "stop signal at " + ", ".join(at)


def cmd_train(args: argparse.Namespace) -> int:
    from aldesk.ml.backbones import get_representation
    from aldesk.services.train import check_strategies, train_round
    from aldesk.store import Project

    if args.budget is not None and args.budget < 1:
        raise InputError("--budget is a number of labels, at least 1")
    check_strategies([args.strategy])  # a bad one must not leave --budget remembered
    if args.representation not in (None, "auto"):
        get_representation(args.representation)  # a bad name or model file is not remembered
    with Project.open(args.project) as project:
        settings = {"representation": args.representation,
                    "label_budget": None if args.budget is None else str(args.budget)}
        with project.transaction() as conn:
            conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                             [(k, v) for k, v in settings.items() if v])
        r = train_round(project, strategy=args.strategy, job=_job())
    cv = f"{r.cv_accuracy:.3f}" if r.cv_accuracy is not None else "n/a (too few labels)"
    print(f"model version {r.version}: {r.labels} labels, representation {r.representation}, "
          f"cross-validated accuracy {cv}; {r.unlabeled_scored} unlabeled items ranked")
    if r.unreadable:
        print(f"{len(r.unreadable)} files could not be read now and are marked unreadable; "
              f"'aldesk info' counts them. First: {r.unreadable[0]}")
    return 0


def cmd_queue(args: argparse.Namespace) -> int:
    from aldesk.services.queue import queue

    if args.top < 1:
        raise InputError("--top must be at least 1")
    with _open_for_reading(args.project) as project:
        result = queue(project, args.top)
    if args.json:
        _print_json(result)
        return 0
    if result["model_version"] is None:
        print(textwrap.fill(result["note"], 100))
        if not result["items"]:
            return 0
        print(f"{'rank':>6} {'score':>6}  path")
        for item in result["items"]:
            print(f"{item['rank']:>6} {item['score']:.4f}  {item['path']}")
        return 0
    strategy = result["strategy"]
    if result.get("resolved") and result["resolved"] != strategy:
        strategy = f"{strategy}: {result['resolved']}"
    print(f"model version {result['model_version']} (strategy {strategy}), "
          f"{result['labels_since']} labels since")
    print(f"{'rank':>6} {'score':>6}  {'predicted':<12} {'prob':>4}  {'votes':<18} path")
    for item in result["items"]:
        votes = " ".join(f"{c}:{n}" for c, n in item["votes"].items())
        why = "  (arrived, stream)" if item["strategy"] == "stream" else ""
        print(f"{item['rank']:>6} {item['score']:.4f}  {item['predicted']:<12} "
              f"{item['probability']:.2f}  {votes:<18} {item['path']}{why}")
    return 0


def cmd_stream(args: argparse.Namespace) -> int:
    from aldesk.al.stream import StreamSelector
    from aldesk.services.stream import watch
    from aldesk.store import Project

    folder = Path(args.watch).expanduser()
    require_folder(folder)
    if not 0 < args.budget <= 1:
        raise InputError("--budget is the fraction of arriving files to queue, in (0, 1]")
    if not 0.1 <= args.interval <= 86_400:  # also refuses nan
        raise InputError("--interval is the seconds between looks, from 0.1 to 86400")

    said = [""]  # the last note, not repeated every look

    def show(report: Any) -> None:
        for path in report.admitted:
            print(f"queued   {path}", flush=True)
        for line in report.unreadable:
            print(f"not yet  {line}", flush=True)
        if report.arrived:
            extra = [f"{report.duplicates} already labeled or queued (same content)"
                     if report.duplicates else "",
                     f"{len(report.unreadable)} unreadable for now, tried again when they "
                     "change" if report.unreadable else ""]
            print(f"{report.arrived} arrived: {len(report.admitted)} queued, "
                  f"{report.indexed_only} indexed only"
                  + "".join(f"; {e}" for e in extra if e) + f". {report.note}".rstrip(),
                  flush=True)
        elif report.note:
            if report.note != said[0]:
                print(report.note, flush=True)
        elif args.once:
            print(f"nothing new in {folder}")
        said[0] = report.note

    with Project.open(args.project) as project:  # refused first when another has it open
        if not args.once:
            print(f"watching {folder} every {args.interval:g} s; at most "
                  f"{args.budget * 100:g} % of the last {StreamSelector.window} arrivals join "
                  "the queue; Ctrl+C stops", file=sys.stderr, flush=True)
        try:
            watch(project, folder, args.budget, args.interval, 1 if args.once else None,
                  on_report=show)
        except KeyboardInterrupt:
            print("stopped watching", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("new", help="create a project over one or more folders")
    p.add_argument("project", help="the project file to create (.aldesk is added if missing)")
    p.add_argument("--folder", action="append", required=True, metavar="DIR",
                   help="a folder of images or DICOM files (repeat for more)")
    p.add_argument("--classes", metavar="A,B,C", help="class names, comma-separated")
    p.add_argument("--label-mode", choices=("single", "multi"), default="single",
                   help="one class per item (default) or a set of classes per item")
    p.set_defaults(run=cmd_new)

    p = sub.add_parser("info", help="counts, classes, folders and models of a project")
    p.add_argument("project", help="the project file (.aldesk)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=cmd_info)

    p = sub.add_parser("import-labels", help="label items from a CSV file with path,label")
    p.add_argument("project", help="the project file (.aldesk)")
    p.add_argument("csv", help="CSV with a header row and columns path,label (more allowed)")
    p.add_argument("--add-classes", action="store_true", help="create classes not yet known")
    p.add_argument("--skip-unmatched", action="store_true",
                   help="import the rest when some paths are not in the project")
    p.add_argument("--annotator", default=default_annotator(),
                   help="who gave the labels, when the CSV has no annotator column "
                        "(default: your account name)")
    p.set_defaults(run=cmd_import_labels)

    p = sub.add_parser("export", help="write labels as csv, json, or a folder per class")
    p.add_argument("project", help="the project file (.aldesk)")
    p.add_argument("--format", required=True, choices=("csv", "json", "folders"),
                   help="csv or json: one row per labeled item; folders: a copy of each "
                        "labeled file in a folder per class")
    p.add_argument("--out", required=True, metavar="PATH",
                   help="the file to write (csv, json) or the folder to create (folders)")
    p.set_defaults(run=cmd_export)

    p = sub.add_parser("add-folder", help="add a folder to a project, or re-scan one")
    p.add_argument("project", help="the project file (.aldesk)")
    p.add_argument("folder", help="a folder of images or DICOM files")
    p.set_defaults(run=cmd_add_folder)

    p = sub.add_parser("relink", help="tell a project that one of its folders has moved")
    p.add_argument("project", help="the project file (.aldesk)")
    p.add_argument("old", help="the folder as 'aldesk info' lists it")
    p.add_argument("new", help="where that folder is now")
    p.set_defaults(run=cmd_relink)

    p = sub.add_parser("scan", help="list the images and DICOM files of a folder, no project")
    p.add_argument("folder", help="the folder to list, with its subfolders")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=cmd_scan)

    p = sub.add_parser("render", help="write a file as the viewer shows it, as PNG")
    p.add_argument("file", help="an image or DICOM file")
    p.add_argument("--out", required=True, metavar="PNG", help="the PNG file to write")
    p.add_argument("--frame", type=int, help="frame to show, from 0 (default: the middle one)")
    p.add_argument("--window", metavar="C,W",
                   help="window centre and width, or a CT preset name (brain, lung, bone...);"
                        " write --window=-600,1500 when the centre is negative")
    p.set_defaults(run=cmd_render)

    p = sub.add_parser("train", help="retrain the committee and rank the unlabeled items")
    p.add_argument("project", help="the project file (.aldesk)")
    p.add_argument("--strategy", default="auto",
                   help="query strategy for this round (default: auto; an unknown name "
                        "lists the valid ones)")
    p.add_argument("--representation",
                   help="auto (default: chosen by image size and colour, then by "
                        "cross-validation), efficientnet_lite0, pixels, "
                        "pixels+efficientnet_lite0 (both side by side) or torchscript:PATH; "
                        "remembered")
    p.add_argument("--budget", type=int, metavar="N",
                   help="how many labels you plan to give in all; 'info' reports against it")
    p.set_defaults(run=cmd_train)

    p = sub.add_parser("queue", help="the ranked queue of unlabeled items")
    p.add_argument("project", help="the project file (.aldesk)")
    p.add_argument("--top", type=int, default=20, help="how many items (default 20)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=cmd_queue)

    p = sub.add_parser("stream", help="queue informative files as they arrive in a folder")
    p.add_argument("project", help="the project file (.aldesk)")
    p.add_argument("--watch", required=True, metavar="DIR", help="the folder to watch")
    p.add_argument("--budget", type=float, default=0.1,
                   help="largest fraction of arriving files to queue, over the recent "
                        "arrivals (default 0.1)")
    p.add_argument("--interval", type=float, default=2.0,
                   help="seconds between looks (default 2)")
    p.add_argument("--once", action="store_true", help="look once and exit")
    p.set_defaults(run=cmd_stream)

    p = sub.add_parser("simulate", help="an active-learning experiment on a labeled folder")
    p.add_argument("dataset", help="a folder with one subfolder of images per class")
    p.add_argument("--strategies", default="auto,random", metavar="A,B",
                   help="strategies to compare (default: auto,random)")
    p.add_argument("--init", type=int, default=20,
                   help="labels each strategy picks first (default 20)")
    p.add_argument("--batch", type=int, default=20, help="labels added per round (default 20)")
    p.add_argument("--budget", type=int, default=400, help="labels at the end (default 400)")
    p.add_argument("--seeds", type=int, default=3, help="repetitions with other splits (default 3)")
    p.add_argument("--members", type=int, default=10, help="heads in the committee (default 10)")
    p.add_argument("--representation", default="auto",
                   help="auto (default: as a project chooses: by the images' size and "
                        "colour, then once by cross-validation from 30 labels), pixels, "
                        "efficientnet_lite0, pixels+efficientnet_lite0 or torchscript:PATH")
    p.add_argument("--out", required=True, metavar="RESULT.json",
                   help="the results; a PNG of the learning curves is written beside it")
    p.set_defaults(run=cmd_simulate)

    p = sub.add_parser("demo", help="build (once) and open the demo project of digits")
    p.add_argument("--no-window", action="store_true",
                   help="build it and print its summary instead of opening the app")
    p.set_defaults(run=cmd_demo)


COMMANDS = ("new", "info", "import-labels", "export", "add-folder", "relink", "scan", "render",
            "train", "queue", "stream", "simulate", "demo")
