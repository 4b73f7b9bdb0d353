/**
 * Replaces `{{name}}` (spaces allowed inside the braces) with `vars[name]` coerced to a string. A variable
 * with no value (absent, null or undefined) renders empty and is listed in `missing`, once, in order of
 * appearance: Truedy stores the list in the call's `context.missing_variables` instead of failing.
 *
 * @example renderTemplate('Hi {{name}}, {{ day }}', { name: 'Ann' }) // { text: 'Hi Ann, ', missing: ['day'] }
 */
export function renderTemplate(text: string, vars: Record<string, unknown>): { text: string; missing: string[] } {
  const missing: string[] = [];
  const out = text.replace(/\{\{\s*([\w.-]+)\s*\}\}/g, (_, name: string) => {
    const v = Object.prototype.hasOwnProperty.call(vars, name) ? vars[name] : undefined;
    if (v === undefined || v === null) {
      if (!missing.includes(name)) missing.push(name);
      return '';
    }
    if (typeof v === 'string') return v;
    if (typeof v === 'object') return JSON.stringify(v);
    return String(v);
  });
  return { text: out, missing };
}
