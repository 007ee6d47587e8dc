"""Command-line interface: `tracker <command>` (or `flask --app wsgi <command>`)."""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path

import click
from alembic import command as alembic_command
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from .config import PROJECT_ROOT
from .imports.cli import import_plan_command
from .schema import alembic_config, upgrade_database


def register_commands(app: Flask) -> None:
    app.cli.add_command(db_group)
    app.cli.add_command(init_db)
    app.cli.add_command(seed_command)
    app.cli.add_command(create_user_command)
    app.cli.add_command(demo_command)
    app.cli.add_command(import_plan_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    from .scheduler import run_job_command, scheduler_command

    app.cli.add_command(scheduler_command)
    app.cli.add_command(run_job_command)


@click.group("db", help="数据库迁移（Alembic）。")
def db_group() -> None:
    pass


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    upgrade_database(current_app.config["DATABASE_URL"], revision)
    click.echo(f"数据库已升级到 {revision}")


@db_group.command("downgrade")
@click.argument("revision", default="-1")
@with_appcontext
def db_downgrade(revision: str) -> None:
    alembic_command.downgrade(alembic_config(current_app.config["DATABASE_URL"]), revision)
    click.echo(f"数据库已回退到 {revision}")


@db_group.command("revision")
@click.option("-m", "--message", required=True)
@with_appcontext
def db_revision(message: str) -> None:
    """Autogenerate a migration from the models."""
    alembic_command.revision(
        alembic_config(current_app.config["DATABASE_URL"]), message=message, autogenerate=True
    )


@db_group.command("check")
@with_appcontext
def db_check() -> None:
    """Fail when the models and the migrations differ."""
    alembic_command.check(alembic_config(current_app.config["DATABASE_URL"]))
    click.echo("模型与迁移一致")


@click.command("init-db", help="建立或升级数据库结构。")
@with_appcontext
def init_db() -> None:
    upgrade_database(current_app.config["DATABASE_URL"])
    click.echo("数据库结构已就绪")


@click.command("seed", help="载入 seeds/ 中的演示数据（可重复执行）。")
@click.option("--path", "path", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=PROJECT_ROOT / "seeds")
@with_appcontext
def seed_command(path: Path) -> None:
    from .db import unit_of_work
    from .seeding import SeedError, load_seeds

    try:
        with unit_of_work(current_app.extensions["tracker.sessions"]) as session:
            counts = load_seeds(session, path)
    except SeedError as exc:
        click.echo(f"演示数据有误，未载入任何数据：{exc}", err=True)
        sys.exit(1)
    click.echo("演示数据已载入：" + "，".join(f"{k} {v}" for k, v in counts.items()))


@click.command("create-user", help="创建用户。")
@click.option("--username", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, help="admin / planner / dept_head / dept_staff / supervisor / evaluator / leader")
@click.option("--region", "region_code", required=True, help="行政区划代码，如 330000")
@click.option("--department", required=True, help="部门名称")
@click.password_option()
@with_appcontext
def create_user_command(username: str, name: str, role: str, region_code: str, department: str,
                        password: str) -> None:
    from .auth.services import create_user
    from .db import unit_of_work
    from .errors import DomainError

    try:
        with unit_of_work(current_app.extensions["tracker.sessions"]) as session:
            user = create_user(session, None, username=username, name=name, role=role,
                               region_code=region_code, department_name=department, password=password)
            click.echo(f"已创建用户 {user.username}（{user.role.label}，{user.department.name}）")
    except DomainError as exc:
        click.echo(f"未创建：{exc.message}", err=True)
        sys.exit(1)


@click.command("demo", help="建库、载入演示数据并在 http://127.0.0.1:5000 启动系统（按演示日期运行）。")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="演示日期（YYYY-MM-DD），默认 2025-07-08；系统的“今天”从这一天 09:00 起随真实时间走")
@click.option("--no-seed", is_flag=True, help="不载入演示数据")
@click.option("--no-scheduler", is_flag=True, help="不启动定时任务进程")
@with_appcontext
def demo_command(host: str, port: int, day: datetime | None, no_seed: bool, no_scheduler: bool) -> None:
    from . import demo, timeutil
    from .db import unit_of_work
    from .seeding import RECORDED_ON, load_seeds

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config.get("PRODUCTION"):
        raise click.ClickException("生产环境（TRACKER_PRODUCTION=1）不能运行演示系统和演示时钟。")
    story_day = day.date() if day else demo.DEFAULT_DAY
    if story_day > RECORDED_ON:
        raise click.BadParameter(f"演示数据记录到{timeutil.format_date(RECORDED_ON)}，演示日期不能晚于这一天。",
                                 param_hint="--date")
    # this process and the scheduler it starts read the same advancing demo clock
    os.environ["TRACKER_DEMO_CLOCK"] = app.config["DEMO_CLOCK"] = timeutil.demo_clock_setting(story_day)
    timeutil.start_demo_clock(app.config["DEMO_CLOCK"])
    upgrade_database(app.config["DATABASE_URL"])
    if not no_seed:
        with unit_of_work(app.extensions["tracker.sessions"]) as session:
            counts = load_seeds(session, PROJECT_ROOT / "seeds")
            if counts.get("规划"):  # a new demo database: the plans as they stood on the day, and the week's cases
                counts.update(demo.rewind(session, story_day))
                counts.update(demo.tell_story(session, story_day))
        click.echo("演示数据：" + ("，".join(f"{k} {v}" for k, v in counts.items()) or "已是最新"))
    click.echo(f"演示日期：{timeutil.format_date(story_day)}（页面、定时任务和操作时间都按演示日期计）")
    click.echo(f"规划执行督查系统：http://{host}:{port}/  （演示账号见 README，密码 demo1234）")
    from werkzeug.serving import run_simple

    from . import freeze_startup_objects
    from .scheduler import spawn_scheduler, stop_scheduler

    # The scheduler runs beside the web server in its own process, and stops with the demo.
    scheduler = None if no_scheduler else spawn_scheduler(app.config["DATABASE_URL"])
    freeze_startup_objects()
    try:
        run_simple(host, port, app, use_reloader=False, threaded=True)
    finally:
        if scheduler is not None:
            stop_scheduler(scheduler)


@click.command("backup", help="把数据库和全部附件备份为一个 .tar.gz 文件（系统运行时也可执行）。")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="备份文件路径，默认 instance/backups/tracker-年月日-时分秒.tar.gz")
@with_appcontext
def backup_command(output: Path | None) -> None:
    from .system.backup import BackupError, create_backup, default_backup_path

    config = current_app.config
    try:
        result = create_backup(config["DATABASE_URL"], Path(config["UPLOAD_DIR"]),
                               output or default_backup_path(Path(config["INSTANCE_PATH"])))
    except BackupError as exc:
        raise click.ClickException(exc.message) from exc
    database = result.manifest["database"]
    click.echo(f"已备份到 {result.path}：数据库 {len(database['tables'])} 张表 {result.rows} 行"
               f"（结构版本 {database['revision']}），附件 {result.upload_count} 个文件")


@click.command("restore", help="用备份文件替换数据库和全部附件（先停止 Web 服务和定时任务进程）。")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="目标数据库或附件目录已有数据时也替换")
@with_appcontext
def restore_command(archive: Path, yes: bool) -> None:
    from datetime import datetime

    from .system.backup import BackupError, restore_backup
    from .timeutil import format_datetime

    config = current_app.config
    try:
        result = restore_backup(config["DATABASE_URL"], Path(config["UPLOAD_DIR"]), archive, replace=yes)
    except BackupError as exc:
        raise click.ClickException(exc.message) from exc
    upgraded = f"，并已升级到结构版本 {result.revision}" if result.upgraded else ""
    click.echo(f"已从 {archive} 恢复：数据库 {result.rows} 行，附件 {result.upload_count} 个文件"
               f"（备份于 {format_datetime(datetime.fromisoformat(result.manifest['created_at']))}）{upgraded}")


def _create_app() -> Flask:
    from . import create_app

    return create_app()


main = FlaskGroup(create_app=_create_app, help="规划执行督查系统")
