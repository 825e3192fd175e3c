"""`avssl eval retrieval`: test videos query the training videos; recall@k per stage and direction.

Within-modal directions (video→video) are measured at every stage of `eval.features.stages`;
cross-modal ones (audio→video, video→audio) only in the shared embedding space (`projection`),
the one place where the two encoders' features are comparable. A video's feature is the mean of
its N uniformly spaced clips. Reports: recall_at_k.png, retrieval_grid.png, feature_map.png and a
self-contained report.html with the frames and sound of queries and retrievals.
"""

from __future__ import annotations

from avssl.eval.protocols.class_plots import feature_map_plot
from avssl.eval.report import ProtocolReport, percent
from avssl.eval.report_plots import plot_recall_at_k, plot_retrieval_grid
from avssl.eval.retrieval import chance_recall, retrieval_recall, top_k_neighbours
from avssl.eval.retrieval_html import ShownClip, ShownQuery, write_retrieval_html

CROSS_MODAL_STAGE = "projection"
ARROW = "→"


def parse_direction(text: str) -> tuple[str, str]:
    query, sep, database = text.replace(" ", "").partition("->")
    if not sep or not query or not database:
        raise ValueError(f"eval.retrieval.directions: {text!r} is not 'query->database', e.g. 'audio->video'")
    return query, database


def run(ctx) -> ProtocolReport:
    cfg = ctx.eval.retrieval
    directions = [parse_direction(d) for d in cfg.directions]
    if not directions:
        raise ValueError("eval.retrieval.directions is empty; e.g. ['video->video']")
    stages = list(ctx.eval.features.stages)
    plan: dict[str, list[str]] = {}  # modality -> stages to extract
    pairs: list[tuple[str, str, str]] = []  # (stage, query modality, database modality)
    for query, database in directions:
        for stage in (stages if query == database else [CROSS_MODAL_STAGE]):
            pairs.append((stage, query, database))
            for modality in (query, database):
                plan.setdefault(modality, [])
                if stage not in plan[modality]:
                    plan[modality].append(stage)
    for modality in plan:  # a direction the model cannot serve fails before any data is prepared
        ctx.model.source(modality)
    data = ctx.data(need_audio="audio" in plan, need_video="video" in plan)
    fold = data.folds[0]
    clips = int(ctx.eval.features.clips_per_video)
    feats = {subset: ctx.extract(data, fold, getattr(fold, subset), subset, plan, clips).video_level()
             for subset in ("train", "test")}
    q_labels, db_labels = data.codes(fold.test), data.codes(fold.train)
    ks = [int(k) for k in cfg.ks]
    recall: dict[str, dict[str, dict[int, float]]] = {}
    for stage, query, database in pairs:
        recall.setdefault(stage, {})[f"{query}->{database}"] = retrieval_recall(
            feats["test"][f"{query}/{stage}"], q_labels, feats["train"][f"{database}/{stage}"], db_labels, ks)
    chance = chance_recall(q_labels, db_labels, ks)

    curves = {f"{stage} {d.replace('->', ARROW)}": r for stage, by_dir in recall.items() for d, r in by_dir.items()}
    plot_recall_at_k(curves, ctx.out / "recall_at_k.png", chance=chance,
                     title=f"Retrieval: {len(fold.test)} test queries, {len(fold.train)} training videos")
    stage, query, database = pairs[0]
    shown = _sample_queries(fold.test, int(cfg.report_queries))
    top = min(int(cfg.report_top_k), len(fold.train))
    neighbours = {}
    for s, q, d in pairs:
        neighbours[(s, q, d)] = top_k_neighbours(feats["test"][f"{q}/{s}"][shown], feats["train"][f"{d}/{s}"], top)
    plots = ["recall_at_k.png", _grid(ctx, data, fold, shown, neighbours[pairs[0]][1], pairs[0]),
             feature_map_plot(ctx, feats["test"][f"{query}/{stage}"], q_labels, data.class_names,
                              f"test {query}/{stage}")]
    header = ["stage, query→database", *(f"R@{k}" for k in ks)]
    rows = [["chance", *(percent(chance[k]) for k in ks)]]
    rows += [[f"{s} {d.replace('->', ARROW)}", *(percent(r[k]) for k in ks)] for s, by in recall.items()
             for d, r in by.items()]
    title = f"Retrieval on {fold.name}: {len(fold.test)} test videos query {len(fold.train)} training videos"
    _html(ctx, data, fold, shown, neighbours, title, (header, rows))
    plots.append("report.html")
    return ProtocolReport(
        "retrieval", title, {
            "fold": fold.name, "ks": ks, "clips_per_video": clips,
            "recall": {s: {d: {str(k): v for k, v in r.items()} for d, r in by.items()} for s, by in recall.items()},
            "chance": {str(k): v for k, v in chance.items()},
            "counts": {"train": len(fold.train), "test": len(fold.test)}, "class_names": data.class_names},
        (header, rows), plots,
        [(f"Recall@k (%): the fraction of test videos with a same-class training video among their k nearest "
         f"(cosine; video feature = mean of {clips} uniformly spaced clips). Cross-modal directions compare "
         f"the {CROSS_MODAL_STAGE} embeddings.")])


def _sample_queries(test, count: int) -> list[int]:
    """The first test video of each class (in class order), then the second of each, ... up to `count`."""
    by_class: dict[str, list[int]] = {}
    for i, row in enumerate(test.rows):
        by_class.setdefault(row.label, []).append(i)
    picked, depth = [], 0
    while len(picked) < min(count, len(test)):
        for label in sorted(by_class):
            if depth < len(by_class[label]) and len(picked) < count:
                picked.append(by_class[label][depth])
        depth += 1
    return picked


def _grid(ctx, data, fold, shown: list[int], neighbours, pair: tuple[str, str, str]) -> str:
    query = pair[1]
    rows = [[int(j) for j in row] for row in neighbours]
    plot_retrieval_grid(
        [ctx.media(fold.test, q, data.decoder).middle_frame() for q in shown],
        [[ctx.media(fold.train, j, data.decoder).middle_frame() for j in row] for row in rows],
        [[fold.train.rows[j].label == fold.test.rows[q].label for j in row] for q, row in zip(shown, rows)],
        ctx.out / "retrieval_grid.png",
        titles=[f"{query} of {fold.test.rows[q].label} {ARROW}" for q in shown])
    return "retrieval_grid.png"


def _html(ctx, data, fold, shown: list[int], neighbours: dict, title: str, table) -> None:
    def clip(manifest, index, score=None, correct=None) -> ShownClip:
        row = manifest.rows[index]
        return ShownClip(row.path, row.label, ctx.media(manifest, index, data.decoder), score, correct)

    sections = []
    for (stage, query, database), (scores, ids) in neighbours.items():
        queries = []
        for q, row_scores, row_ids in zip(shown, scores.tolist(), ids.tolist()):
            label = fold.test.rows[q].label
            queries.append(ShownQuery(clip(fold.test, q), [
                clip(fold.train, j, s, fold.train.rows[j].label == label) for s, j in zip(row_scores, row_ids)]))
        sections.append(((f"{query} {ARROW} {database} ({stage}): test {query} queries, training {database} "
                         f"retrieved"), queries))
    baseline = " (re-initialised: the untrained baseline)" if ctx.model.untrained else ""
    write_retrieval_html(ctx.out / "report.html", title,
                         f"checkpoint {ctx.model.path}{baseline} · green = same class as the query, red = another class",
                         table, sections)
