# Experiments: population spectrum -> simulation blocks -> merged simulation; spectrum -> theory.
# Each rule lists the package modules its command imports (CODE, derived in common.smk) as inputs.

from ridgerenorm.verdicts import figure_entry


rule spectrum:
    input:
        code=CODE["spectrum"],
        spec=lambda wc: step_arg(wc.exp, "spectrum").path,
    output:
        f"{R}/spectra/{{exp}}.nc",
    log:
        f"{R}/logs/spectrum/{{exp}}.log",
    benchmark:
        f"{R}/benchmarks/spectrum/{{exp}}.tsv"
    params:
        spec=lambda wc: step_arg(wc.exp, "spectrum"),
        settings=lambda wc: step_settings(wc.exp, "spectrum"),
    shell:
        "ridgerenorm spectrum --spec {params.spec} --out {output} 2> {log}"


rule simulate:
    input:
        spectrum=f"{R}/spectra/{{exp}}.nc",
        code=CODE["simulate"],
        spec=lambda wc: step_arg(wc.exp, "simulate").path,
    output:
        temp(f"{R}/simulation/{{exp}}/draws_{{start}}-{{stop}}.nc"),
    log:
        f"{R}/logs/simulate/{{exp}}/draws_{{start}}-{{stop}}.log",
    benchmark:
        f"{R}/benchmarks/simulate/{{exp}}/draws_{{start}}-{{stop}}.tsv"
    threads: config.get("threads", 2)
    resources:
        mem_mb=simulate_mem_mb,
        runtime=60,
    params:
        spec=lambda wc: step_arg(wc.exp, "simulate"),
        settings=lambda wc: step_settings(wc.exp, "simulate"),
        draws="{start}:{stop}",
        mem_gb=config.get("mem_budget_gb", 16),
    shell:
        "ridgerenorm simulate --spec {params.spec} --spectrum {input.spectrum}"
        " --draws {params.draws} --threads {threads} --mem-gb {params.mem_gb}"
        " --out {output} 2> {log}"


rule merge_simulation:
    input:
        blocks=lambda wc: block_files(wc.exp),
        spectrum=f"{R}/spectra/{{exp}}.nc",
        code=CODE["merge"],
        spec=lambda wc: step_arg(wc.exp, "simulate").path,
    output:
        f"{R}/simulation/{{exp}}.nc",
    log:
        f"{R}/logs/merge/{{exp}}.log",
    benchmark:
        f"{R}/benchmarks/merge/{{exp}}.tsv"
    params:
        spec=lambda wc: step_arg(wc.exp, "simulate"),
        settings=lambda wc: step_settings(wc.exp, "simulate"),
    shell:
        "ridgerenorm merge --spec {params.spec} --spectrum {input.spectrum}"
        " --out {output} {input.blocks} 2> {log}"


rule theory:
    input:
        spectrum=f"{R}/spectra/{{exp}}.nc",
        code=CODE["theory"],
        spec=lambda wc: step_arg(wc.exp, "theory").path,
    output:
        f"{R}/theory/{{exp}}.nc",
    log:
        f"{R}/logs/theory/{{exp}}.log",
    benchmark:
        f"{R}/benchmarks/theory/{{exp}}.tsv"
    params:
        spec=lambda wc: step_arg(wc.exp, "theory"),
        settings=lambda wc: step_settings(wc.exp, "theory"),
    shell:
        "ridgerenorm theory --spec {params.spec} --spectrum {input.spectrum} --out {output} 2> {log}"


rule agreement:
    input:
        sims=[f"{R}/simulation/{e}.nc" for e in simulated_experiments()],
        theories=[f"{R}/theory/{e}.nc" for e in simulated_experiments()],
        code=CODE["agreement"],
        # what the page's figure verdicts need of each figure (ridgerenorm.verdicts.figure_entry), as a
        # content-addressed file: a changed figure list or note gives a new file name, so the page is rebuilt
        figures=arg_file(
            "agreement_figures.json",
            json.dumps(
                {
                    fid: figure_entry(FIGURES[fid], figure_kind(fid))
                    for fid in sorted(FIGURES)
                },
                sort_keys=True,
            )
            + "\n",
        ).path,
    output:
        csv=f"{R}/agreement.csv",
        # the same table as a page the report shows (a CSV would only be offered as a download), with one
        # verdict per figure and the count of figures per verdict
        html=report(
            f"{R}/agreement.html",
            caption="../report/agreement.rst",
            category="Agreement and performance",
            labels={"table": "agreement: simulation vs theory (agreement.csv)"},
        ),
    log:
        f"{R}/logs/agreement.log",
    benchmark:
        f"{R}/benchmarks/agreement.tsv"
    # one parameter (the report lists every parameter under "Job parameters"); the figures file is an input
    params:
        pairs=arg_file(
            "agreement_pairs.txt",
            "".join(
                f"{e}={R}/simulation/{e}.nc,{R}/theory/{e}.nc\n"
                for e in simulated_experiments()
            ),
        ),
    shell:
        "ridgerenorm agreement --pair {params.pairs} --figures {input.figures} --out {output.csv}"
        " --html {output.html} 2> {log}"


rule benchmark_summary:
    input:
        figures=[figure_file(fid, "pdf") for fid in sorted(FIGURES)],
        agreement=rules.agreement.output.csv,
        code=CODE["benchmark_summary"],
        # the script this job runs (its content is in the code stamp, so its file time does not count)
        script=ancient(str(SUMMARY_COMMAND)),
    output:
        md=f"{R}/benchmark_summary.md",
        html=report(
            f"{R}/benchmark_summary.html",
            caption="../report/benchmarks.rst",
            category="Agreement and performance",
            labels={
                "table": "benchmarks: run time and performance (benchmark_summary.md)"
            },
        ),
    log:
        f"{R}/logs/benchmark_summary.log",
    # It times a matmul on all its threads to rate the simulations against: every core of a local run
    # (all_local_cores); on a cluster, where there is no --cores, the configured threads per job.
    threads: all_local_cores
    shell:
        'python {input.script:q} "$(dirname {output.md})" --threads {threads} --out {output.md} --html {output.html} 2> {log}'
