"""`xinyong sample generate|load`: the synthetic Puyang deliveries of the demo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from xinyong.cli.context import actor, catalog, out, transaction
from xinyong.ingest.service import IngestRequest, ingest
from xinyong.sample.files import generate, read_manifest

app = typer.Typer(help="合成样例数据（濮阳）", no_args_is_help=True)


@app.command("generate")
def generate_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="输出目录")] = Path("var/sample"),
    seed: Annotated[int, typer.Option(help="随机种子：相同种子生成相同数据")] = 2016,
    scale: Annotated[int, typer.Option(help="规模倍数")] = 1,
) -> None:
    """生成一组合成的濮阳部门报送文件（CSV/GBK、XLSX、JSON Lines，含各类错误行）。"""
    with transaction():
        deliveries = generate(output, catalog(), seed=seed, scale=scale)
    for d in deliveries:
        out.print(f"{output / d.file}：{d.dataset}，{d.rows:,} 行")


@app.command("load")
def load_command(
    folder: Annotated[Path, typer.Argument(help="sample generate 的输出目录")] = Path("var/sample"),
) -> None:
    """按 manifest.yaml 的顺序归集样例文件，每个文件一个批次。"""
    table = Table(title="样例数据归集结果")
    for col in ("文件", "数据集", "批次", "收到", "新增", "更新", "未变", "待关联", "拒绝"):
        table.add_column(col)
    for d in read_manifest(folder):
        req = IngestRequest(
            path=folder / d.file, dataset=d.dataset, dept_uscc=d.dept, actor=actor()
        )
        with transaction() as conn:
            r = ingest(conn, catalog(), req)
        table.add_row(
            d.file,
            d.dataset,
            str(r.batch_id),
            *(f"{n:,}" for n in (r.received, r.new, r.updated, r.unchanged, r.pending, r.rejected)),
        )
    out.print(table)
    out.print(
        "用 `xinyong batches`、`xinyong batch show 批次号`、`xinyong subject 代码` 查看结果。"
    )
