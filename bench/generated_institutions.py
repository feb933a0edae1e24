"""Generated institutions for search at scale: seeded, each one findable by its own name.

Every generated institution copies one published sample institution (its type, capabilities,
service modes, standards) under a new name, region and address, so its text is real knowledge
text with a name of its own. Its vector is the template's e5 passage vector plus seeded noise
(cosine about 0.96 to the template), renormalised: encoding 100,000 passages with the e5 model
would take hours on the 2-core machine (63 sample institutions take more than a minute under
load), and what a scale benchmark measures — encoding the query, the HNSW search, BM25 over
100,000 texts, fusion and JSON — does not depend on the vectors being the model's own. One
consequence: a generated name is not in its vector, so searching by name lifts it through BM25
only (tests/bench/test_generated_institutions.py: on the first page within its region, mostly
among all).
``publish_with`` writes a private index version: the sample's kinds as they are, institutions
the sample's plus the generated ones, and every entry in ``entries.json``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from knowledge.constants import REGIONS
from knowledge.schema import Institution
from retrieval.index import Version, publish
from retrieval.vector_index import make_index

NOISE = 0.3  # norm of the noise added to a unit template vector: cosine ≈ 1 / sqrt(1 + 0.09)
BRAND = "恒信精诚准瑞达鑫泰华立明德航宇正源科博安通凯越汇中天远嘉禾新锐卓宏昌盛联创智优启辰"
SUFFIX = {
    "法定计量技术机构": "计量测试所",
    "计量校准机构": "校准技术有限公司",
    "检验检测机构": "检测技术有限公司",
    "认证机构": "认证有限公司",
    "标准化服务机构": "标准化服务有限公司",
    "知识产权服务机构": "知识产权代理有限公司",
    "质量管理咨询机构": "质量管理咨询有限公司",
    "高校科研院所": "技术研究院",
    "金融服务机构": "科技金融服务有限公司",
    "综合服务机构": "质量技术服务有限公司",
}


def name_of(n: int, region: str, kind: str) -> str:
    """A distinct name per number: two brand characters, the town, a branch number."""
    first, second = BRAND[n % len(BRAND)], BRAND[(n // len(BRAND)) % len(BRAND)]
    town = region.removeprefix("江阴市").removeprefix("无锡市").removeprefix("宜兴市")
    return f"{town}{first}{second}{SUFFIX.get(kind, '技术服务有限公司')}第{n}分部"


def generate(
    templates: list[Institution], template_vectors: np.ndarray, n: int, *, seed: int = 13
) -> Iterator[tuple[Institution, np.ndarray]]:
    """``n`` institutions and their vectors, the same for the same templates and seed."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        t = int(rng.integers(len(templates)))
        template = templates[t]
        region = REGIONS[int(rng.integers(len(REGIONS)))]
        title = name_of(i, region, template.type)
        entry = template.model_copy(
            update={
                "id": f"gen-inst-{i:06d}",
                "title": title,
                "region": region,
                "address": f"{region}工业园{int(rng.integers(1, 400))}号",
                "keywords": [title, *template.keywords],
                "description": f"{title}。{template.description}",
            }
        )
        noise = rng.standard_normal(template_vectors.shape[1]).astype(np.float32)
        vector = template_vectors[t] + NOISE * noise / np.linalg.norm(noise)
        yield entry, np.asarray(vector / np.linalg.norm(vector), dtype=np.float32)


def publish_with(
    live: Version, root: Path, n: int, *, threshold: int, seed: int = 13, **hnsw: int
) -> tuple[str, list[Institution]]:
    """Publish ``live`` plus ``n`` generated institutions into ``root``; (version, generated)."""
    assert live.knowledge is not None, "the live version has no entries.json"
    sample = [e for e in live.knowledge.institutions if e.status == "published"]
    vectors = live.indexes["institution"].vectors([e.id for e in sample])
    made = list(generate(sample, vectors, n, seed=seed))
    ids, matrix = live.indexes["institution"].live()
    ids += [entry.id for entry, _ in made]
    matrix = np.vstack([matrix, np.stack([v for _, v in made])])
    index = make_index(matrix.shape[1], len(ids), threshold=threshold, **hnsw)
    index.add(ids, matrix)
    indexes = {**live.indexes, "institution": index}
    entries = [*live.knowledge.entries(), *(entry for entry, _ in made)]
    manifest = publish(
        root,
        indexes,
        model=live.manifest.model,
        knowledge_hash=f"{live.manifest.knowledge_hash}+generated-{n}-{seed}",
        entries=entries,
    )
    return manifest.version, [entry for entry, _ in made]
