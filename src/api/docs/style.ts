/** The docs pages' only stylesheet, served same-origin (CSP `style-src 'self'`). */
export const DOCS_CSS = `
:root { color-scheme: light dark; --muted: #6b7280; --line: #d1d5db; --accent: #1d4ed8; }
body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 72rem; padding: 1rem 1.5rem 4rem; }
code { font: 13px/1.4 ui-monospace, monospace; }
a { color: var(--accent); }
h2 { border-top: 3px solid var(--line); padding-top: 1rem; margin-top: 3rem; }
h4 { margin: 0 0 .25rem; }
h5 { margin: .75rem 0 .25rem; font-size: .9rem; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid var(--line); padding: .25rem .5rem; text-align: left; vertical-align: top; }
.muted { color: var(--muted); }
.req { color: #b91c1c; font-size: .8rem; }
.op { border: 1px solid var(--line); border-radius: 6px; padding: .75rem 1rem; margin: 1rem 0; }
.method { display: inline-block; min-width: 4.5rem; font: bold 12px/1.8 ui-monospace, monospace; text-align: center; border-radius: 4px; color: #fff; background: #4b5563; }
.method.get { background: #047857; } .method.post { background: #1d4ed8; } .method.put { background: #b45309; }
.method.patch { background: #7c3aed; } .method.delete { background: #b91c1c; }
.sec { font-size: .9rem; } .sec.public { color: var(--muted); }
ul.schema { margin: .1rem 0 .1rem 1rem; padding-left: .75rem; border-left: 1px dotted var(--line); list-style: none; }
dl.responses dt { font-weight: bold; } dl.responses dd { margin: 0 0 .5rem 1.5rem; }
.schema-def { margin: 1rem 0; }
`;
