#!/usr/bin/env bash
# Plots a soak CSV (informer_soak --csv) as resident memory, threads and open descriptors over
# time.   scripts/plot-soak.sh SOAK.csv OUT.svg
set -euo pipefail
csv=$1
out=$2
command -v gnuplot >/dev/null || apt-get install -y -q gnuplot-nox >/dev/null
gnuplot <<GNUPLOT
set terminal svg size 900,420 dynamic font "sans,11"
set output "$out"
set datafile separator ","
set key top left
set xlabel "minutes"
set ylabel "resident memory (MiB)"
set y2label "threads, open descriptors"
set yrange [0:*]
set y2range [0:*]
set ytics nomirror
set y2tics
set grid
set title "informer\\\\_soak: churn and faults, every cache checked against the server"
plot "$csv" using (\$1/60):(\$2/1024) skip 1 with lines lw 2 title "RSS (MiB)", \
     "$csv" using (\$1/60):3 skip 1 axes x1y2 with lines lw 2 title "threads", \
     "$csv" using (\$1/60):4 skip 1 axes x1y2 with lines lw 2 title "open fds"
GNUPLOT
