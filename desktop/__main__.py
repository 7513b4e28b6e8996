"""Command line: `conversa` (desktop app), `conversa serve`, users, devices, pair, models, keys, settings."""

from __future__ import annotations

import argparse
import sys

from desktop import __version__
from desktop.bind_policy import check_bind
from desktop.config import describe, load, settings_table
from desktop.errors import ConversaError
from llm.errors import LLMError


def _common() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: a subcommand's copy of the option must not reset the value given before it.
    p.add_argument(
        "--data-dir",
        default=argparse.SUPPRESS,
        help="data folder (env CONVERSA_DATA_DIR; default: the platform's user data dir)",
    )
    return p


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(
        prog="conversa",
        parents=[common],
        description="Local-first AI copilot and mini-CRM for WhatsApp Web attendants.",
    )
    parser.add_argument("--version", action="version", version=f"conversa {__version__}")
    parser.add_argument("--tray", action="store_true", help="start with the window hidden in the tray (for login)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", parents=[common], help="run the server headless (VPS or background)")
    serve.add_argument("--host", help="bind address (env CONVERSA_HOST; default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (env CONVERSA_PORT; default 8765)")
    serve.add_argument("--no-model", action="store_true", help="do not load the model (insights say unavailable)")
    serve.add_argument(
        "--insecure",
        action="store_true",
        help="allow a non-loopback --host with no TLS proxy in front (trusted_proxies empty): traffic in clear text",
    )

    users = sub.add_parser("users", parents=[common], help="attendants and admins")
    us = users.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = us.add_parser("add", parents=[common], help="create a user")
    add.add_argument("name")
    add.add_argument("--role", choices=["admin", "attendant"], required=True)
    add.add_argument("--password-stdin", action="store_true", help="read the password from one line of stdin")
    us.add_parser("list", parents=[common], help="list users")
    pw = us.add_parser("passwd", parents=[common], help="set a user's password")
    pw.add_argument("name")
    pw.add_argument("--password-stdin", action="store_true", help="read the password from one line of stdin")
    dis = us.add_parser("disable", parents=[common], help="disable a user and sign out their devices")
    dis.add_argument("name")

    devices = sub.add_parser("devices", parents=[common], help="paired browsers and apps")
    ds = devices.add_subparsers(dest="action", metavar="ACTION", required=True)
    ds.add_parser("list", parents=[common], help="list devices")
    rev = ds.add_parser("revoke", parents=[common], help="sign a device out")
    rev.add_argument("device_id")

    pair = sub.add_parser("pair", parents=[common], help="print a one-time pairing code (valid 5 minutes)")
    pair.add_argument("--user", help="user the device signs in as (default: the only admin)")

    models = sub.add_parser("models", parents=[common], help="language models")
    ms = models.add_subparsers(dest="action", metavar="ACTION", required=True)
    pull = ms.add_parser("pull", parents=[common], help="download a catalogue model (`default`)")
    pull.add_argument("model_id")
    ms.add_parser("list", parents=[common], help="catalogue and files in the models folder")
    use = ms.add_parser("use", parents=[common], help="make a model the active one")
    use.add_argument("model_id")
    ms.add_parser("recommend", parents=[common], help="which catalogue models fit this machine's memory")
    test = ms.add_parser("test", parents=[common], help="run a sample analysis and print tokens/s")
    test.add_argument("model_id", nargs="?")

    keys = sub.add_parser("keys", parents=[common], help="encryption keys")
    ks = keys.add_subparsers(dest="action", metavar="ACTION", required=True)
    ks.add_parser("export", parents=[common], help="print the data key (keep it offline)")
    ks.add_parser("rotate", parents=[common], help="new data key; prints the new recovery key")
    ks.add_parser("passwd", parents=[common], help="protect the data key with a new passphrase")
    rec = ks.add_parser("recover", parents=[common], help="unlock with the recovery key and protect anew")
    rec.add_argument("--recovery-key-stdin", action="store_true", help="read the recovery key from stdin")

    bk = sub.add_parser("backup", parents=[common], help="write an encrypted, verified backup of the data")
    bk.add_argument("file", nargs="?", help="backup file to write (the key store copy goes beside it)")
    bk.add_argument(
        "--rotate",
        metavar="DIR",
        help="daily form (systemd timer): write DIR/conversa-<time>.cbak, keep the newest of 7 days and 4 weeks",
    )
    rs = sub.add_parser("restore", parents=[common], help="restore a backup (the server must be stopped)")
    rs.add_argument("file")
    rs.add_argument("--keys", metavar="FILE", help="key store copy made with the backup (default: the one beside it)")
    rs.add_argument("--recovery-key", action="store_true", help="ask for the recovery key of the install that made it")
    rs.add_argument("--recovery-key-stdin", action="store_true", help="read that recovery key from stdin")

    ev = sub.add_parser("eval", parents=[common], help="measure label quality on a labelled CSV")
    ev.add_argument("task", choices=["sentiment", "intent"])
    ev.add_argument(
        "file", help="CSV with id,text,label (sentiment; or stars 1-5) or mapped_label[,alt_label] (intent)"
    )
    ev.add_argument("--model", help="model id (default: the active model)")
    ev.add_argument(
        "--train",
        action="append",
        metavar="TRAIN.csv",
        help="labelled CSV to train the team adapter on first, as corrections would (repeat for several files);"
        " a `stars` column (1-5) also counts 2- and 4-star rows as part neutral",
    )
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.add_argument("--predictions", help="write id,prediction for every row to this CSV")
    ev.add_argument("--limit", type=int, help="only the first N scorable rows")
    ev.add_argument("--no-model", action="store_true", help="lexicon only, for comparison")

    qr = sub.add_parser("quick-replies", parents=[common], help="canned answers offered in WhatsApp Web")
    qs = qr.add_subparsers(dest="action", metavar="ACTION", required=True)
    imp = qs.add_parser("import", parents=[common], help="import a CSV with columns shortcut,text,intents")
    imp.add_argument("file")
    qs.add_parser("list", parents=[common], help="list quick replies")

    lab = sub.add_parser("labels", parents=[common], help="teach the sentiment and intent labels from a file")
    ls = lab.add_subparsers(dest="action", metavar="ACTION", required=True)
    li = ls.add_parser(
        "import",
        parents=[common],
        help="import labelled texts (id,text,label or stars 1-5; intent: mapped_label) and retrain",
    )
    li.add_argument("task", choices=["sentiment", "intent"])
    li.add_argument("file")
    li.add_argument("--no-model", action="store_true", help="text features only (faster; English labels lose a bit)")
    ls.add_parser("status", parents=[common], help="how many corrections and imported examples are stored")
    ls.add_parser("forget-imported", parents=[common], help="delete every imported example and retrain")

    ext = sub.add_parser("extension", parents=[common], help="the browser extension, without Node or npm")
    es = ext.add_subparsers(dest="action", metavar="ACTION", required=True)
    ei = es.add_parser("install", parents=[common], help="write the unpacked extension and say how to load it")
    ei.add_argument("dir", nargs="?", help="folder to write (default: DATA_DIR/extension/BROWSER)")
    ei.add_argument("--browser", choices=["chromium", "firefox"], default="chromium")
    kb = sub.add_parser("knowledge", parents=[common], help="the shop's FAQ, policies and catalogues")
    kbs = kb.add_subparsers(dest="action", metavar="ACTION", required=True)
    kadd = kbs.add_parser("add", parents=[common], help="add a .txt, .md, .pdf or catalogue .csv file")
    kadd.add_argument("file")
    kadd.add_argument("--title", help="its title in citations (default: the file's name)")
    kbs.add_parser("list", parents=[common], help="list the documents")
    krm = kbs.add_parser("remove", parents=[common], help="remove a document and its passages")
    krm.add_argument("id")

    st = sub.add_parser("settings", parents=[common], help="every setting with its value, env name and help")
    st.add_argument("--markdown", action="store_true", help="print the README's settings table")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        overrides = {
            "data_dir": getattr(args, "data_dir", None),
            "host": getattr(args, "host", None),
            "port": getattr(args, "port", None),
        }
        settings = load(overrides)
        cmd = args.command
        if cmd is None:
            from desktop.app import run_desktop

            check_bind(settings)
            return run_desktop(settings, hidden=args.tray)
        if cmd == "serve":
            from desktop.app import run_headless

            check_bind(settings, insecure=args.insecure)
            return run_headless(settings, with_model=not args.no_model)
        # Imported here: they load the service (about 1.5 s), which `conversa` loads only after
        # its window is shown.
        from desktop.commands import accounts as accounts_cmd
        from desktop.commands import backup as backup_cmd
        from desktop.commands import evaluate as evaluate_cmd
        from desktop.commands import extension as extension_cmd
        from desktop.commands import keys as keys_cmd
        from desktop.commands import knowledge as knowledge_cmd
        from desktop.commands import labels as labels_cmd
        from desktop.commands import models as models_cmd
        from desktop.commands import quick_replies as quick_replies_cmd

        if cmd == "users":
            return accounts_cmd.users(settings, args)
        if cmd == "devices":
            return accounts_cmd.devices(settings, args)
        if cmd == "pair":
            return accounts_cmd.pair(settings, args)
        if cmd == "models":
            return models_cmd.run(settings, args)
        if cmd == "eval":
            return evaluate_cmd.run(settings, args)
        if cmd == "quick-replies":
            return quick_replies_cmd.run(settings, args)
        if cmd == "labels":
            return labels_cmd.run(settings, args)
        if cmd == "backup":
            return backup_cmd.backup(settings, args)
        if cmd == "restore":
            return backup_cmd.restore(settings, args)
        if cmd == "knowledge":
            return knowledge_cmd.run(settings, args)
        if cmd == "keys":
            return keys_cmd.run(settings, args)
        if cmd == "extension":
            return extension_cmd.run(settings, args)
        if cmd == "settings" and args.markdown:
            print(settings_table())
            return 0
        if cmd == "settings":
            current = settings.__dict__
            for s in describe():
                value = "(set)" if s["secret"] and current[s["name"]] else current[s["name"]]
                print(f"{s['name']} = {value!r}\n    env {s['env']}, default {s['default']!r}: {s['help']}")
            return 0
    except (ConversaError, LLMError) as e:
        print(f"conversa: error: {e.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
