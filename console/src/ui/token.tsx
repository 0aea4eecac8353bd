// Sign-in for a server started with --auth-token-file: the token goes into the `loxo_token`
// cookie, which the server accepts from browsers (fetch and EventSource send it by themselves).
import { useState } from "preact/hooks";

export function TokenForm() {
  const [value, setValue] = useState("");
  return (
    <div class="page">
      <section class="card token" aria-labelledby="token-h">
        <h1 id="token-h">This loxo server needs a token</h1>
        <p>
          Paste the content of the server's <code>--auth-token-file</code>. It is kept in a cookie for this site only.
        </p>
        <form
          class="filters"
          onSubmit={(e) => {
            e.preventDefault();
            const secure = location.protocol === "https:" ? "; Secure" : "";
            document.cookie = `loxo_token=${encodeURIComponent(value.trim())}; path=/; SameSite=Strict${secure}`;
            location.reload();
          }}
        >
          <label>
            Token
            <input type="password" value={value} autocomplete="current-password" required onInput={(e) => setValue((e.target as HTMLInputElement).value)} />
          </label>
          <button type="submit">Sign in</button>
        </form>
      </section>
    </div>
  );
}
