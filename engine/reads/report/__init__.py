"""Reports that leave PaperDesk: plotly figure builders (`figures`, pure: DataFrames and arrays
in, figures out, no Streamlit), a self-contained HTML page (`html`: plotly.js inline, so a
report opens with no network) and the session and sweep reports built from the reads."""
