# ridgerenorm: every figure of "Scaling and renormalization in high-dimensional regression".
#   snakemake --cores all                                  paper scale  -> results/paper/
#   snakemake --cores all --configfile config/quick.yaml   quick scale  -> results/quick/
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"


rule all:
    default_target: True
    input:
        all_targets(),


include: "workflow/rules/experiments.smk"
include: "workflow/rules/spectra.smk"
include: "workflow/rules/figures.smk"
