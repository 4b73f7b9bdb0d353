/** The page a browser lands on after Google's consent (001: "Calendar Authorization Successful"). */
export function successPage(): string {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Calendar Authorization Successful</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 32rem; margin: 4rem auto; line-height: 1.5">
<h1>Calendar Authorization Successful</h1>
<p>Switchboard can now read your Google Calendar and book appointments in it on calls started with <code>enable_calendar</code>.</p>
<p>You can close this window. To disconnect, call <code>POST /auth/google/revoke</code> with the same API key.</p>
</body>
</html>
`;
}
