# Figures that make their own data (a figure kind with a builder; section A: random-matrix spectra).  Each
# samples its eigenvalues and evaluates its limiting densities once (cached as netCDF); the figure rule only
# re-renders.


rule spectra_data:
    input:
        code=CODE["spectra_data"],
        # the code stamp of the kind's data builder, which plotting loads by name
        builder=lambda wc: CODE[kind_stamp("data_", figure_kind(wc.fid).builder_module)],
        spec=lambda wc: figure_spec_arg(wc.fid).path,
    output:
        f"{R}/spectra_data/{{fid}}.nc",
    log:
        f"{R}/logs/spectra_data/{{fid}}.log",
    benchmark:
        f"{R}/benchmarks/spectra_data/{{fid}}.tsv"
    threads: config.get("threads", 2)
    params:
        spec=lambda wc: figure_spec_arg(wc.fid),
        settings=lambda wc: figure_settings(wc.fid),
        seed=config.get("seed", 0),
    shell:
        "ridgerenorm spectra-data --spec {params.spec} --seed {params.seed} --out {output} 2> {log}"
