# Figures: one generic rule; the figure kind (config) picks the plot function and its inputs.


rule figure:
    input:
        unpack(lambda wc: figure_inputs(wc.fid)),
        code=CODE["figure"],
        # the code stamp of the kind's plot module, which plotting loads by name
        plot=lambda wc: CODE[kind_stamp("plot_", figure_kind(wc.fid).plot_module)],
        spec=lambda wc: figure_spec_arg(wc.fid).path,
    output:
        pdf=f"{R}/figures/{{fid}}_{{name}}.pdf",
        png=report(
            f"{R}/figures/{{fid}}_{{name}}.png",
            caption="../report/figure.rst",
            # One list of every figure (no subcategories), labelled by id, name and paper section: a figure
            # is one click from the report's menu.
            category="Figures",
            labels=lambda wc: figure_labels(wc.fid),
        ),
    log:
        f"{R}/logs/figure/{{fid}}_{{name}}.log",
    benchmark:
        f"{R}/benchmarks/figure/{{fid}}_{{name}}.tsv"
    params:
        spec=lambda wc: figure_spec_arg(wc.fid),
        settings=lambda wc: figure_settings(wc.fid),
        # the data files by role, one ROLE=FILE[,FILE] a line, as an @file: a figure of many experiments
        # (R1 reads eight) keeps its printed command short
        data=lambda wc: arg_file(
            f"figure_{wc.fid}_data.txt",
            "".join(
                f"{role}={','.join(files)}\n"
                for role, files in figure_inputs(wc.fid).items()
            ),
        ),
        # a figure of any scale but paper says so in its footnote band
        scale=config["scale"],
        # Read only by the report caption; not a plain value, so Snakemake's params trigger ignores it.
        caption_facts=lambda wc: FigureFacts(config, wc.fid, R),
    shell:
        "ridgerenorm figure --spec {params.spec} --data {params.data} --scale {params.scale:q}"
        " --out {output.pdf} --png {output.png} 2> {log}"


rule contact_sheet:
    input:
        pngs=[figure_file(fid, "png") for fid in sorted(FIGURES)],
        code=CODE["contact_sheet"],
    output:
        f"{R}/contact_sheet.pdf",
    log:
        f"{R}/logs/contact_sheet.log",
    params:
        pngs=arg_file(
            "contact_sheet_pages.txt",
            "".join(f"{figure_file(fid, 'png')}\n" for fid in sorted(FIGURES)),
        ),
    shell:
        "ridgerenorm contact-sheet --out {output} {params.pngs} 2> {log}"
