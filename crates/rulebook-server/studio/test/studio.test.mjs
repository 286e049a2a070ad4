// Rulebook Studio in a real headless Chromium (Debian's `chromium`, driven
// by playwright-core): every page opened as a user would, checked with
// axe-core for serious and critical accessibility violations, and
// photographed. The Studio runs as `rulebook studio` on a copy of the
// bundled rulebooks (the edit test saves), started by this test.
//
// Needs the debug binary (`cargo build` or `cargo test` first) and
// Chromium; `.ci/run` provides both. Screenshots go to
// $STUDIO_SCREENSHOTS (default target/studio-screenshots).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer } from "node:net";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "../../../..");
const binary = process.env.RULEBOOK_BIN || join(repo, "target/debug/rulebook");
const shots = process.env.STUDIO_SCREENSHOTS || join(repo, "target/studio-screenshots");
const axeSource = readFileSync(join(here, "../node_modules/axe-core/axe.min.js"), "utf8");

function browserPath() {
  for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
    try { return execFileSync("which", [name]).toString().trim(); } catch { /* next */ }
  }
  throw new Error("Chromium is not installed: run `apt-get install chromium` (as .ci/run does)");
}

function freePort() {
  return new Promise((ok) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => { const { port } = srv.address(); srv.close(() => ok(port)); });
  });
}

let studio, browser, base, folder;
const consoleErrors = [];

before(async () => {
  folder = mkdtempSync(join(tmpdir(), "studio-"));
  cpSync(join(repo, "rulebooks"), folder, { recursive: true });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  studio = spawn(binary, ["studio", folder, "--addr", `127.0.0.1:${port}`], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  studio.stderr.on("data", (d) => { log += d; });
  await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`the Studio did not start in 60 s:\n${log}`)), 60000);
    studio.stdout.on("data", (d) => { if (String(d).includes("listening on")) { clearTimeout(timer); ok(); } });
    studio.on("exit", (code) => fail(new Error(`the Studio exited with ${code}:\n${log}`)));
  });
  mkdirSync(shots, { recursive: true });
  browser = await chromium.launch({ executablePath: browserPath(), args: ["--no-sandbox", "--disable-gpu"] });
});

after(async () => {
  if (browser) await browser.close();
  if (studio) studio.kill("SIGTERM");
});

async function open(hash, language = "en") {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "en-GB" });
  await context.addInitScript((l) => { try { localStorage.setItem("rulebook-studio-language", l); } catch { /* a sandboxed frame */ } }, language);
  const page = await context.newPage();
  // A debug build on a busy machine checks whole folders slowly.
  page.setDefaultTimeout(120000);
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(`${hash}: ${m.text()}`); });
  page.on("pageerror", (e) => consoleErrors.push(`${hash}: ${e.message}`));
  await page.goto(`${base}/studio/${hash}`);
  await page.waitForSelector("main[data-ready]:not([data-ready=''])");
  return page;
}

// axe-core in the page: no serious or critical violation.
async function accessible(page, name) {
  // Run through the protocol: the page's own policy allows no inline script.
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
  });
  const bad = result.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(bad, [], `${name}: accessibility violations ${JSON.stringify(bad, null, 1)}`);
}

async function shoot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

test("the programmes page lists every programme with its versions and status", async () => {
  const page = await open("#/");
  const headings = await page.locator("main h2").allTextContents();
  assert.ok(headings.some((x) => x.includes("Kotihoidon palveluseteli") || x.includes("Home-care")), headings.join("|"));
  const rows = await page.locator("main table tbody tr").count();
  assert.ok(rows >= 17, `${rows} version rows`);
  assert.ok(await page.locator("svg.timeline rect").count() >= 17);
  assert.match(await page.locator("main").innerText(), /Examples \d+\/\d+/);
  await accessible(page, "programmes");
  await shoot(page, "programmes");
  await page.context().close();
});

test("a rulebook reads with tables, linked names and citations that link to Finlex", async () => {
  const page = await open("#/read?file=dental-client-fees/2018-21.rulebook");
  assert.ok(await page.locator("main .reading table").count() >= 1, "no table laid out");
  // Criteria with their reasons, in the chosen language.
  const home = await open("#/read?file=helsinki-dental-voucher/2022.rulebook", "sv");
  assert.ok(await home.locator("ul.criteria li").count() >= 1, "no criteria listed");
  assert.match(await home.locator("ul.criteria").innerText(), /Kunden uppfyller inte kriterierna/, "the reasons are not in Swedish");
  await home.context().close();
  const finlex = page.locator("a.finlex").first();
  assert.match(await finlex.getAttribute("href"), /^https:\/\/www\.finlex\.fi\/fi\/lainsaadanto\/1992\/912$/);
  // Following a name goes to its definition.
  const name = page.locator(".reading pre a[data-name]").first();
  const target = (await name.getAttribute("href")).slice(1);
  await name.click();
  assert.equal(await page.locator(`[id="${target}"]`).count(), 1);
  assert.ok(await page.evaluate((id) => { const r = document.getElementById(id).getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }, target), "the definition is not in view");
  await accessible(page, "read");
  await shoot(page, "read");
  await page.context().close();
});

test("a parameter is plotted over the versions as a step chart", async () => {
  const page = await open("#/parameters?programme=fi.payment_ceiling");
  const card = page.locator("section.card[data-name='payment_ceiling']");
  assert.equal(await card.count(), 1);
  const values = await card.locator("tbody tr").count();
  assert.ok(values >= 3, `${values} values`);
  await card.getByRole("button").click();
  const d = await card.locator("svg.chart path.step").getAttribute("d");
  assert.equal((d.match(/M|L/g) || []).length, values * 2, d);
  // Search by citation.
  await page.fill("input[type=search]", "734/1992");
  await page.press("input[type=search]", "Enter");
  await page.waitForSelector("main[data-ready='parameters']");
  assert.ok(await page.locator("section.card").count() >= 1);
  await accessible(page, "parameters");
  await shoot(page, "parameters");
  await page.context().close();
});

test("the home-care form decides as rulebook eval does", async () => {
  const page = await open("#/try?programme=helsinki.home_care");
  await page.fill("input[data-path=decision_date]", "2021-03-01");
  await page.dispatchEvent("input[data-path=decision_date]", "change");
  await page.waitForSelector("[data-version='2021']");
  await page.fill("input[data-path='household.gross_monthly_income']", "900.00");
  await page.fill("input[data-path='household.size']", "1");
  await page.fill("input[data-path='service.hourly_price']", "40.00");
  await page.fill("input[data-path='service.hours_per_month']", "20");
  await page.getByRole("button", { name: "Decide" }).click();
  await page.waitForSelector("section.decision");
  const shown = {};
  for (const row of await page.locator("section.decision tr[data-output]").all()) {
    shown[await row.getAttribute("data-output")] = (await row.locator("td").innerText()).trim();
  }
  const cli = JSON.parse(execFileSync(binary, ["eval", join(repo, "rulebooks/helsinki-home-care/2021.rulebook"), "--input", join(repo, "rulebooks/helsinki-home-care/case-single.yaml"), "--format", "json"]).toString());
  assert.ok(Object.keys(cli.outputs).length >= 3);
  // The page writes amounts with their unit (`32.18 €`).
  for (const [k, v] of Object.entries(cli.outputs)) assert.equal(shown[k], `${v} €`, `${k}: ${shown[k]} in the browser, ${v} from rulebook eval`);
  // The explanation and the letter.
  assert.ok(await page.locator(".explanation details").count() >= 1);
  const letter = page.frameLocator("iframe.letter");
  await letter.locator("h1").waitFor();
  // Saved as an example.
  await page.getByRole("button", { name: "Save as an example" }).last().click();
  const example = await page.locator("pre[data-example]").innerText();
  assert.match(example, /given household/);
  assert.match(example, new RegExp(`expect customer_pays = ${cli.outputs.customer_pays.replace(".", "\\.")}`));
  await accessible(page, "try");
  await shoot(page, "try");
  // A shared link opens the same case and decides it.
  await page.getByRole("button", { name: "Copy a link to share" }).click();
  const shared = page.url();
  assert.match(shared, /case=/);
  const other = await open(shared.slice(shared.indexOf("#")));
  await other.waitForSelector("section.decision tr[data-output='customer_pays']");
  assert.equal((await other.locator("section.decision tr[data-output='customer_pays'] td").innerText()).trim(), `${cli.outputs.customer_pays} €`);
  await other.context().close();
  await page.context().close();
});

test("three providers are compared for a dental case, cheapest first", async () => {
  const page = await open("#/providers?programme=helsinki.dental_voucher");
  await page.fill("input[data-path=decision_date]", "2022-03-01");
  await page.dispatchEvent("input[data-path=decision_date]", "change");
  await page.waitForSelector("[data-version='2022']");
  await page.fill("input[data-path='treatment.hygienist_visits']", "1");
  await page.fill("input[data-path='treatment.dentist_visits']", "2");
  await page.fill("input[data-path='treatment.specialist_visits']", "0");
  await page.click("button[data-add='treatment.procedures']");
  await page.selectOption("select[data-path='treatment.procedures.0.code']", "SFA10");
  await page.fill("input[data-path='treatment.procedures.0.difficulty_class']", "3");
  await page.fill("input[data-path='treatment.procedures.0.price']", "50");
  await page.fill("input[data-path='client.birth_date']", "1980-05-01");
  await page.check("input[data-path='client.meets_service_criteria']");
  await page.check("input[data-path='provider.meets_act_section_5']");
  await page.fill("textarea", "provider,treatment.procedures.0.price\nHammas Oy,52\nSuu Ky,12\nDent Ab,45\n");
  await page.getByRole("button", { name: "Compare" }).click();
  await page.waitForSelector("table.comparison");
  const order = await page.locator("table.comparison tbody tr").evaluateAll((rows) => rows.map((r) => r.dataset.provider));
  assert.equal(order.length, 3);
  const sortKey = await page.locator("select").last().inputValue();
  const values = await page.locator(`table.comparison tbody td[data-output='${sortKey}']`).allInnerTexts();
  assert.equal(sortKey, "self_fee");
  assert.equal(values.length, 3, `no ${sortKey} for each provider`);
  const nums = values.map((v) => Number(v.replace(/[^\d.,-]/g, "").replace(",", ".")));
  // The same as the service's comparison: the cheapest provider's
  // self-fee from one case decided at its price.
  const direct = await page.evaluate(async () => {
    const r = await fetch("/v1/programmes/helsinki.dental_voucher/decisions", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ decision_date: "2022-03-01", inputs: { treatment: { hygienist_visits: 1, dentist_visits: 2, specialist_visits: 0, procedures: [{ code: "SFA10", difficulty_class: 3, price: "12" }] }, client: { birth_date: "1980-05-01", meets_service_criteria: true, refused_voucher: false }, provider: { meets_act_section_5: true } } }) });
    return (await r.json()).outputs.self_fee;
  });
  assert.equal(order[0], "Suu Ky");
  assert.equal(nums[0], Number(direct), `${values[0]} against ${direct}`);
  assert.deepEqual([...nums].sort((a, b) => a - b), nums, `sorted by ${sortKey}: ${values}`);
  await accessible(page, "providers");
  await shoot(page, "providers");
  await page.context().close();
});

test("the language switches the Studio and the rulebook's own texts", async () => {
  const page = await open("#/try?programme=helsinki.home_care", "sv");
  assert.equal(await page.locator("html").getAttribute("lang"), "sv");
  assert.match(await page.locator("#nav").innerText(), /Jämför producenter/);
  assert.match(await page.locator("main").innerText(), /antal personer i hushållet/);
  await page.selectOption("#language", "fi");
  await page.waitForSelector("main[data-ready='try']");
  assert.match(await page.locator("#nav").innerText(), /Vertaa tuottajia/);
  assert.match(await page.locator("main").innerText(), /kotitalouden henkilömäärä/);
  await accessible(page, "try-fi");
  await shoot(page, "try-fi");
  await page.context().close();
});

test("an error typed in the editor is shown, and fixing it clears it", async () => {
  const page = await open("#/edit?file=helsinki-home-care/2024-25.rulebook");
  await page.waitForSelector("#findings li.ok");
  const editor = page.locator(".cm-content");
  await editor.click();
  // `raise` becomes an unknown name where it is used.
  const line = page.locator(".cm-line", { hasText: "parameter raise = 120 %" });
  await line.click();
  await page.keyboard.press("Home");
  for (let i = 0; i < "parameter raise".length; i += 1) await page.keyboard.press("ArrowRight");
  await page.keyboard.type("x");
  await page.locator("#findings li.bad").first().waitFor({ timeout: 20000 });
  const text = await page.locator("#findings").innerText();
  assert.match(text, /raise/, text);
  assert.match(text, /line \d+/, text);
  await shoot(page, "edit-error");
  await page.keyboard.press("Backspace");
  await page.waitForSelector("#findings li.ok", { timeout: 20000 });
  // Completion offers names of the rulebook.
  await page.keyboard.press("End");
  await page.keyboard.press("Enter");
  await page.keyboard.type("let z = formula_m");
  await page.keyboard.press("Control+Space");
  await page.locator(".cm-tooltip-autocomplete li", { hasText: "formula_max_value" }).first().waitFor({ timeout: 20000 });
  await page.keyboard.press("Escape");
  for (let i = 0; i < "let z = formula_m".length + 1; i += 1) await page.keyboard.press("Backspace");
  await page.waitForSelector("#findings li.ok", { timeout: 20000 });
  // Hover tells what a name is.
  const spot = await page.evaluate(() => {
    const line = [...document.querySelectorAll(".cm-line")].find((l) => l.textContent.startsWith("parameter min_value"));
    const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const at = n.textContent.indexOf("min_value");
      if (at >= 0) {
        const r = document.createRange();
        r.setStart(n, at + 2);
        r.setEnd(n, at + 5);
        const b = r.getBoundingClientRect();
        return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
      }
    }
    return null;
  });
  assert.ok(spot, "min_value is not on screen");
  await page.mouse.move(spot.x, spot.y);
  await page.locator(".cm-tooltip-hover").first().waitFor({ timeout: 20000 });
  assert.match(await page.locator(".cm-tooltip-hover").first().innerText(), /min_value/);
  await page.getByRole("button", { name: "Save" }).click();
  await page.waitForFunction(() => document.getElementById("save-state").textContent.startsWith("Saved:"));
  assert.equal(readFileSync(join(folder, "helsinki-home-care/2024-25.rulebook"), "utf8"), readFileSync(join(repo, "rulebooks/helsinki-home-care/2024-25.rulebook"), "utf8"));
  await accessible(page, "edit");
  await shoot(page, "edit");
  await page.context().close();
});

test("two versions are compared with an uploaded population", async () => {
  const page = await open("#/versions?programme=helsinki.home_care&old=helsinki-home-care/2021.rulebook&new=helsinki-home-care/2022-23.rulebook");
  const lines = [];
  for (let i = 0; i < 200; i += 1) {
    lines.push(JSON.stringify({ decision_date: "2022-06-01", household: { gross_monthly_income: `${500 + i * 17}.00`, size: 1 + (i % 5) }, service: { hourly_price: "40.00", hours_per_month: 10 + (i % 20) } }));
  }
  const file = join(folder, "population.jsonl");
  writeFileSync(file, `${lines.join("\n")}\n`);
  await page.setInputFiles("input[type=file]", file);
  await page.fill("input[placeholder='household.size']", "household.size");
  await page.getByRole("button", { name: "Compare" }).click();
  await page.waitForSelector(".diff-report #impact");
  const report = await page.locator(".diff-report").innerText();
  assert.match(report, /200 cases, 0 could not be decided/, report.slice(0, 400));
  assert.match(report, /By household\.size/);
  assert.ok(await page.locator(".diff-report svg.histogram rect").count() >= 1);
  await accessible(page, "versions");
  await shoot(page, "versions");
  await page.context().close();
});

test("no page logged a console error", () => {
  assert.deepEqual(consoleErrors, []);
});
