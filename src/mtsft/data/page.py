"""The look of the HTML pages curation writes (the analysis page and the curation report share it)."""

CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222;line-height:1.45}
table{border-collapse:collapse;font-size:13px;margin:1em 0}td,th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}
td:first-child,th:first-child,td:nth-child(2){text-align:left}tr.task{font-weight:600;background:#f6f8fa}tr.lang{color:#666}
img{max-width:100%;margin:0.5em 0}.grid{display:grid;grid-template-columns:1fr 1fr;gap:1em}
.ok{color:#1a7f37}.fail{color:#cf222e;font-weight:600}code{background:#f3f3f3;padding:1px 4px}"""
