# Figures: one generic rule; the figure kind (config) picks the plot function and its inputs.  It is used
# as three rules, one per source a figure is drawn from (ridgerenorm.inventory.figure_rule), so that each rule
# sits at one depth of the DAG: Snakemake's report draws a rule once per depth in its rule graph.
#   figure          the simulation and theory files of the figure's experiments
#   spectra_figure  the sampled spectra of its own data job (spectra_data; section A)
#   diagram         its parameters alone (the Venn diagrams and the phase diagram)


rule figure:
    input:
        unpack(lambda wc: figure_inputs(wc.fid)),
        code=CODE["figure"],
        # the code stamp of the kind's plot module, which plotting loads by name
        plot=lambda wc: CODE[kind_stamp("plot_", figure_kind(wc.fid).plot_module)],
        spec=lambda wc: figure_spec_arg(wc.fid).path,
        # its data files by role (figure_data_arg), named by their content, which the spec determines: the
        # file's time does not count
        data_list=lambda wc: ancient(figure_data_arg(wc.fid).path),
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
    wildcard_constraints:
        fid=figure_ids("figure"),
    # What the report lists under "Job parameters": the spec and the data list are input files (`@` them in
    # the command), so they are not repeated there.  A changed spec is caught by its input file, whose name is
    # its content and whose time says whether the figure agrees with it (common.smk, align_spec_trigger).
    params:
        # a figure of any scale but paper says so in its footnote band
        scale=config["scale"],
        # Read only by the report caption; not a plain value, so Snakemake's params trigger ignores it.
        caption_facts=lambda wc: FigureFacts(config, wc.fid, R),
    shell:
        "ridgerenorm figure --spec @{input.spec} --data @{input.data_list} --scale {params.scale:q}"
        " --out {output.pdf} --png {output.png} 2> {log}"


use rule figure as spectra_figure with:
    wildcard_constraints:
        fid=figure_ids("spectra_figure"),


use rule figure as diagram with:
    wildcard_constraints:
        fid=figure_ids("diagram"),


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
