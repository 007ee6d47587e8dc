"""`import-plan FILE [--plan-id …] [--region …] [--dry-run]`: a plan document's draft from the command line.

It prints the draft as a tree with its counts, indicators and doubts (with --json: the whole draft as JSON,
each item with its parent's code beside its parent's id, for scripts and comparisons). Without --dry-run the draft is also
kept (as an import of the region, or of the plan given with --plan-id, to be updated) for a planner to
review and confirm on its preview page; the command never creates a plan on its own.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from .draft import TYPE_LABELS, Draft


def _print_draft(draft: Draft, *, verbose: bool) -> None:
    plan = draft.plan
    if plan.title:
        period = f"（{plan.start_year}—{plan.end_year}年）" if plan.start_year else ""
        click.echo(f"《{plan.title}》{period}")
    if draft.message:
        click.echo(f"提示：{draft.message}")
    for depth, item in draft.tree():
        flag = f"  ？{item.reason}" if item.unsure else ""
        click.echo(f"{'  ' * depth}[{TYPE_LABELS[item.type]}] {item.code} {item.title}{flag}")
        if verbose and item.box_items:
            for line in item.box_items:
                click.echo(f"{'  ' * (depth + 1)}· {line}")
    if draft.indicators:
        click.echo("指标：")
        for i in draft.indicators:
            flag = f"  ？{i.reason}" if i.unsure else ""
            baseline = f"，基期 {i.baseline}" if i.baseline else ""
            click.echo(f"  {i.number}. {i.name}（{i.category or '—'}）{i.unit or ''}"
                       f"{baseline}，目标 {i.target or '—'}{flag}")
    for table in draft.reviews:
        click.echo(f"{table['caption'] or '回顾表'}：")
        for r in table["rows"]:
            click.echo(f"  {r['number'] or ''}. {r['name']}：目标 {r['target'] or '—'}，完成 {r['actual'] or '—'}")
    for project in draft.projects:
        click.echo(f"项目：{project.name}（总投资 {project.total or '—'} {project.unit}）")
    if verbose:
        for candidate in draft.candidates:
            click.echo(f"候选目标：{candidate.name} {candidate.target or ''}")
    click.echo("合计：" + "，".join(f"{k} {v}" for k, v in draft.counts().items()))


def draft_json(draft: Draft) -> dict[str, Any]:
    """The draft as JSON for --json: every field of every entry, the counts, and each item's parent code."""
    data = draft.to_json()
    codes = {i.id: i.code for i in draft.items}
    for item in data["items"]:
        item["parent_code"] = codes.get(item["parent"]) if item["parent"] else None
        item["type_label"] = TYPE_LABELS.get(item["type"], item["type"])
    data["counts"] = draft.counts()
    return data


@click.command("import-plan", help="识别规划文档（.docx/.doc/.wps/.txt/.md/.pdf），打印识别出的任务树和数量。")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--plan-id", type=int, default=None, help="按该规划更新（确认时按编号更新任务和指标）")
@click.option("--region", "region_code", default=None, help="行政区划代码（不指定 --plan-id 时保存草稿用）")
@click.option("--dry-run", is_flag=True, help="只识别和打印，不保存草稿")
@click.option("--verbose", "-v", is_flag=True, help="同时打印专栏条目和正文中的候选目标")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 打印完整的识别结果（与 --dry-run 一起用）")
@with_appcontext
def import_plan_command(file: Path, plan_id: int | None, region_code: str | None, dry_run: bool,
                        verbose: bool, as_json: bool) -> None:
    from sqlalchemy import select

    from ..db import unit_of_work
    from ..errors import DomainError
    from ..planning.models import Plan
    from ..regions.models import Region
    from . import services

    data = file.read_bytes()
    if dry_run:
        try:
            draft = services.draft_of(file.name, data)
        except DomainError as exc:
            click.echo(f"无法识别：{exc.message}", err=True)
            sys.exit(1)
        if as_json:
            click.echo(json.dumps(draft_json(draft), ensure_ascii=False, indent=2))
        else:
            _print_draft(draft, verbose=verbose)
        return
    if as_json:
        click.echo("--json 只能与 --dry-run 一起使用。", err=True)
        sys.exit(1)
    try:
        with unit_of_work(current_app.extensions["tracker.sessions"]) as session:
            plan = region_id = None
            if plan_id is not None:
                plan = session.get(Plan, plan_id)
                if plan is None:
                    raise DomainError(f"规划 {plan_id} 不存在。")
            elif region_code:
                region_id = session.scalar(select(Region.id).where(Region.code == region_code))
                if region_id is None:
                    raise DomainError(f"行政区划 {region_code} 不存在。")
            else:
                raise DomainError("保存草稿须指定 --region 或 --plan-id；只想查看识别结果请加 --dry-run。")
            uploaded = services.upload_document(session, None, file.name, data, region_id=region_id, plan=plan)
            document = uploaded.document
            _print_draft(Draft.from_json(document.draft), verbose=verbose)
            note = {"new": "已保存草稿", "reopened": "该文件已有未确认的草稿", "update": "已保存草稿（确认时可更新原规划）"}
            click.echo(f"{note[uploaded.outcome]}：导入编号 {document.id}，请规划处在 /imports/{document.id} 核对后确认。")
    except DomainError as exc:
        click.echo(f"未导入：{exc.message}", err=True)
        sys.exit(1)
