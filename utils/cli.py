"""Each script's command line, generated from the config sections it reads and its own options.

A script shows and accepts the top-level fields (seed, device, run_dir, restart), the shared sections
(env, logging), its own sections as ``--section.field VALUE`` (dashes or underscores both work), the
presets (``--preset``, ``--dry-run``; explicit flags win), the seed-era shorthands that reach its
sections (``--num-epochs``, ``--dream-epochs``, ``--num-episodes``, ``--record-video``, ``--no-wandb``,
...) and its own options, declared as a small dataclass (``main(cfg, opts)`` receives it). Help texts
are the fields' docstrings; ``--dry-run --help`` shows the dry-run preset's values.

A bad flag or value is one line on stderr and exit code 2; an expected failure while running
(:class:`utils.io.UserError`) is one line and exit code 1 (``--debug`` adds the traceback).
"""

from __future__ import annotations

import argparse
import ast
import functools
import inspect
import json
import sys
import traceback
import typing
from collections.abc import Callable, Sequence
from dataclasses import MISSING, fields, is_dataclass
from pathlib import Path
from typing import Any, Literal

from config import PRESETS, Config, ConfigError, make_config
from utils.io import UserError

_HINTS = typing.get_type_hints(Config)
SECTIONS = tuple(name for name, tp in _HINTS.items() if is_dataclass(tp))  # env, data, vae, ... sac
SHARED = ("env", "logging")  # every script's, besides the top-level fields

# Seed-era shorthands: flag -> (dotted field, help). A script offers those whose section it reads.
SHORTHANDS: dict[str, tuple[str, str]] = {
    "--env-id": ("env.env_id", "game: ALE/<Game>-v5 or CarRacing-v3"),
    "--debug": ("logging.debug", "show full tracebacks on errors"),
    "--wandb-project": ("logging.wandb_project", "wandb project (implies wandb on)"),
    "--wandb-entity": ("logging.wandb_entity", "wandb entity"),
    "--num-episodes": ("eval.num_episodes", "evaluation episodes"),
    "--record-video": ("eval.record_video", "record an evaluation video"),
    "--dream-epochs": ("controller.dream_epochs", "CMA-ES generations in the dream"),
    "--real-epochs": ("controller.real_epochs", "CMA-ES generations in the real game"),
}


@functools.cache
def field_docs(cls: type) -> dict[str, str]:
    """Docstrings written under dataclass fields (the string literal after each annotation)."""
    docs: dict[str, str] = {}
    for base in reversed(cls.__mro__[1:]):  # inherited fields (e.g. AlgoConfig's), overridden below
        if is_dataclass(base):
            docs.update(field_docs(base))
    body = ast.parse(inspect.getsource(cls)).body[0].body  # type: ignore[attr-defined]
    for prev, node in zip(body, body[1:], strict=False):
        if (isinstance(prev, ast.AnnAssign) and isinstance(prev.target, ast.Name) and isinstance(node, ast.Expr)
                and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            docs[prev.target.id] = node.value.value
    return docs


def _field_type(dotted: str) -> type:
    cls: Any = Config
    *parents, name = dotted.split(".")
    for p in parents:
        cls = typing.get_type_hints(cls)[p]
    return typing.get_type_hints(cls)[name]


def _get(cfg: Any, dotted: str) -> Any:
    for p in dotted.split("."):
        cfg = getattr(cfg, p)
    return cfg


def _parse_bool(text: str) -> bool:
    low = text.lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true/false, got {text!r}")


def _convert(tp: type, text: str) -> Any:
    return _parse_bool(text) if tp is bool else tp(text)


class _ArgParser(argparse.ArgumentParser):
    def error(self, message: str) -> typing.NoReturn:  # one line, exit code 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def _preset_of(argv: Sequence[str]) -> str:
    """The preset a command line asks for (for the defaults --help shows); the real parse checks it."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--preset", default="default")
    pre.add_argument("--dry-run", action="store_true")
    known, _ = pre.parse_known_args(argv)
    return "dry-run" if known.dry_run else known.preset if known.preset in PRESETS else "default"


def build_parser(description: str, sections: Sequence[str] = SECTIONS, shorthands: dict[str, tuple[str, str]] | None = None,
                 options: type | None = None, argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser of a script reading ``sections`` (plus the shared ones), with its ``options`` dataclass."""
    parser = _ArgParser(description=description, usage="%(prog)s [options]")
    visible = [s for s in SECTIONS if s in (*SHARED, *sections)]
    base = make_config(_preset_of(argv))
    g = parser.add_argument_group("common")
    g.add_argument("--preset", choices=list(PRESETS), default="default", help="named preset (default: default)")
    g.add_argument("--dry-run", action="store_true", help="shorthand for --preset dry-run")
    g.add_argument("--no-wandb", action="store_true", help="never import or use wandb")
    offered = {k: v for k, v in SHORTHANDS.items() if "." not in v[0] or v[0].split(".")[0] in visible}
    for flag, (dest, text) in {**offered, **(shorthands or {})}.items():
        tp = _field_type(dest)
        kind = {"action": "store_const", "const": True} if tp is bool else {"metavar": tp.__name__.upper()}
        g.add_argument(flag, dest=f"short:{dest}", default=None, help=f"{text} (= --{dest})", **kind)
    groups = [("run", [f for f in _HINTS if f not in SECTIONS and f != "preset"], Config, "")]
    groups += [(s, list(typing.get_type_hints(_HINTS[s])), _HINTS[s], f"{s}.") for s in visible]
    for title, names, cls, prefix in groups:
        grp = parser.add_argument_group(title)
        hints, docs = typing.get_type_hints(cls), field_docs(cls)
        for name in names:
            dotted, tp = prefix + name, hints[name]
            kw = {"dest": f"cfg:{dotted}", "type": _parse_bool if tp is bool else tp, "default": None,
                  "metavar": tp.__name__.upper(), **({"nargs": "?", "const": True} if tp is bool else {})}
            flags = [f"--{dotted.replace('_', '-')}"] + (["--run"] if dotted == "run_dir" else [])  # --run: seed-era alias
            grp.add_argument(*flags, **kw, help=f"{docs.get(name, '')} (default: {_get(base, dotted)!r})".replace("%", "%%"))
            if "_" in dotted:  # --vae.latent_dim works too, without a second line of help
                grp.add_argument(f"--{dotted}", **kw, help=argparse.SUPPRESS)
    if options is not None:
        _add_options(parser, options)
    return parser


def _add_options(parser: argparse.ArgumentParser, options: type) -> None:
    """A script's own flags from its options dataclass: bool -> switch, list -> one or more values,
    Literal -> choices, no default -> required; the docstring is the help, ``metadata["metavar"]`` the metavar."""
    grp = parser.add_argument_group("options")
    hints, docs = typing.get_type_hints(options), field_docs(options)
    for f in fields(options):
        tp, kw = hints[f.name], {}
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if tp is bool:
            kw["action"] = "store_true"
        elif typing.get_origin(tp) is list:
            kw.update(nargs="+", type=args[0])
        elif typing.get_origin(tp) is Literal:
            kw["choices"] = list(args)
        else:
            kw["type"] = args[0] if args else tp
        if "metavar" in f.metadata:
            kw["metavar"] = f.metadata["metavar"]
        default = f.default_factory() if f.default_factory is not MISSING else f.default
        if default is MISSING:
            kw["required"] = True
        else:
            kw["default"] = default
        shown = "" if default in (MISSING, None, False) else f" (default: {' '.join(default) if isinstance(default, list) else default})"
        grp.add_argument(f"--{f.name.replace('_', '-')}", dest=f"opt:{f.name}", help=docs.get(f.name, "") + shown, **kw)


def config_from_args(args: argparse.Namespace) -> Config:
    """Preset, then the shorthands, then explicit ``--section.field`` flags; validated."""
    ns = vars(args)
    overrides: dict[str, Any] = {}
    for key, value in ns.items():  # shorthands first: an explicit --section.field wins
        if key.startswith("short:") and value is not None:
            name = key[6:]
            try:
                overrides[name] = value if isinstance(value, bool) else _convert(_field_type(name), value)
            except (ValueError, argparse.ArgumentTypeError):
                raise ConfigError(f"invalid value {value!r} for the flag of {name}") from None
            if name == "logging.wandb_project":
                overrides["logging.wandb"] = True
    overrides.update({k[4:]: v for k, v in ns.items() if k.startswith("cfg:") and v is not None})
    if ns.get("no_wandb"):
        overrides["logging.wandb"] = False
    if overrides.get("run_dir"):
        _game_of_the_run(overrides)
    return make_config("dry-run" if ns.get("dry_run") else ns.get("preset", "default"), **overrides)


def _game_of_the_run(overrides: dict[str, Any]) -> None:
    """An existing ``--run-dir`` plays the game in its saved config: without ``--env-id`` that game is used (with
    its defaults); another ``--env-id`` is refused unless ``--restart`` retrains the run for it."""
    run = Path(overrides["run_dir"])
    try:
        saved = json.loads((run / "config.json").read_text())["env"]["env_id"]
    except (OSError, ValueError, KeyError, TypeError):
        return  # a new run, or one without a readable config: the flags decide
    given = overrides.get("env.env_id")
    if given is None:
        overrides["env.env_id"] = saved
    elif given != saved and not overrides.get("restart"):
        raise ConfigError(f"{run} is a run of {saved}, not {given}: drop --env-id to use it, pick another "
                          "--run-dir, or retrain it with --restart")


def check_game(env_id: str) -> None:
    """A game ale_py has a ROM for: an unknown id fails at parse time, before any file is written."""
    from utils.wrappers import check_game as check  # imports ale_py, which every script needs anyway

    try:
        check(env_id)
    except UserError as e:
        raise ConfigError(str(e)) from None


def parse(argv: Sequence[str] | None = None, description: str = "", sections: Sequence[str] = SECTIONS,
          shorthands: dict[str, tuple[str, str]] | None = None, options: type | None = None) -> tuple[Config, Any]:
    """(config, options) from a command line; a bad flag or value exits 2 with one line."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(description, sections, shorthands, options, argv)
    args = parser.parse_args(argv)
    try:
        cfg = config_from_args(args)
        check_game(cfg.env.env_id)
    except ConfigError as e:
        parser.exit(2, f"{parser.prog}: error: {e}\n")
    opts = options(**{f.name: getattr(args, f"opt:{f.name}") for f in fields(options)}) if options else None
    return cfg, opts


def run_cli(main: Callable[..., Any], argv: Sequence[str] | None = None, description: str = "",
            sections: Sequence[str] = (), shorthands: dict[str, tuple[str, str]] | None = None,
            options: type | None = None) -> int:
    """Parse, run ``main(cfg)`` (``main(cfg, opts)`` with options); expected failures are one line, exit 1."""
    cfg, opts = parse(argv, description, sections, shorthands, options)
    try:
        main(cfg, opts) if options is not None else main(cfg)
    except (UserError, ConfigError) as e:
        if cfg.logging.debug:
            traceback.print_exc()
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0
