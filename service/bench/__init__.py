"""The benchmark: the real service over HTTP against a fake OpenAI-compatible LLM.

    factcheck bench [--out bench.md] [--quick] [--postgres-url URL] [--workers 1 --workers 2]
                    [--retrieval-size 10000 --retrieval-size 100000 ...]

It starts a fake LLM server (service.bench.fake_llm: configurable latency, structured answers
to the extraction and judge prompts, calls and tokens counted per kind) and `factcheck serve`
on a temporary SQLite database (and on a temporary PostgreSQL database with --postgres-url),
the seeds ingested, rate limit off, then measures:

    a) service overhead per check, LLM time excluded, p50/p95, for 300 / 1,000 / 5,000-word
       articles (service.bench.costs);
    b) LLM calls and tokens per article and per claim (target <= 0.25 calls per claim), beside a
       naive one-judge-call-per-claim-candidate-pair design run on the same articles
       (service.bench.naive), and the cost of checking the same article again;
    c) checks at once (1, 8, 16, 32, 64) against one check's time with 1 s LLM latency (target:
       64 at once within 1.3x one check), with the service's CPU use (service.bench.throughput);
    d) peak memory (RSS) of the service's processes during each section (service.bench.procs);
    e) retrieval latency with 10k / 100k / 1M stored synthetic claims, on SQLite and (with
       --postgres-url) PostgreSQL (service.bench.retrieval, service.bench.synthetic; target:
       p95 <= 20 ms at 1M on PostgreSQL, 1M/10k <= 3).

Articles are built from the seeds (service.bench.articles), every one a text the service has
not seen. Tables are printed with rich; --out also writes them as Markdown with the machine
they ran on. Sections a-d take about four minutes on 2 cores (--quick: one); loading a million
synthetic claims takes about five more per database (--quick stops at 100k).
"""
