// The Studio's own words in Finnish, Swedish and English. Texts from a
// rulebook (titles, criteria, labels) come from the rulebook itself.
const words = {
  skip: ["Siirry sisältöön", "Hoppa till innehållet", "Skip to content"],
  language: ["Kieli", "Språk", "Language"],
  nav: ["Studio", "Studio", "Studio"],
  programmes: ["Ohjelmat", "Program", "Programmes"],
  parameters: ["Parametrit ajassa", "Parametrar över tid", "Parameters over time"],
  read: ["Lue", "Läs", "Read"],
  try: ["Kokeile tapausta", "Pröva ett fall", "Try a case"],
  providers: ["Vertaa tuottajia", "Jämför producenter", "Compare providers"],
  versions: ["Vertaa versioita", "Jämför versioner", "Compare versions"],
  edit: ["Muokkaa", "Redigera", "Edit"],
  version: ["Versio", "Version", "Version"],
  period: ["Voimassa", "Giltig", "In force"],
  status: ["Tila", "Status", "Status"],
  errors: ["virhettä", "fel", "errors"],
  warnings: ["varoitusta", "varningar", "warnings"],
  examples: ["Esimerkit", "Exempel", "Examples"],
  properties: ["Ominaisuudet", "Egenskaper", "Properties"],
  coverage: ["Kattavuus", "Täckning", "Coverage"],
  served: ["Käytössä päätöksissä", "Används i beslut", "Used for decisions"],
  notServed: ["Ei käytössä (korjaa ensin)", "Används inte (rätta först)", "Not used (fix it first)"],
  verified: ["ei vastaesimerkkiä", "inget motexempel", "no counterexample"],
  failedProps: ["vastaesimerkki löytyi", "motexempel hittat", "counterexample found"],
  timeline: ["Versiot aikajanalla", "Versioner på tidslinjen", "Versions on a timeline"],
  open: ["avoin", "öppen", "open"],
  search: ["Hae nimellä tai lähteellä", "Sök med namn eller källa", "Search by name or citation"],
  programme: ["Ohjelma", "Program", "Programme"],
  allProgrammes: ["Kaikki ohjelmat", "Alla program", "All programmes"],
  value: ["Arvo", "Värde", "Value"],
  from: ["Alkaen", "Från", "From"],
  source: ["Lähde", "Källa", "Source"],
  plot: ["Näytä kuvaajana", "Visa som diagram", "Plot"],
  noMatch: ["Ei osumia.", "Inga träffar.", "Nothing matches."],
  decisionDate: ["Päätöspäivä", "Beslutsdatum", "Decision date"],
  decide: ["Päätä", "Besluta", "Decide"],
  eligible: ["Oikeutettu", "Berättigad", "Eligible"],
  notEligible: ["Ei oikeutettu", "Inte berättigad", "Not eligible"],
  outputs: ["Tulokset", "Resultat", "Results"],
  explanation: ["Perustelut", "Motivering", "Explanation"],
  letter: ["Päätöskirje", "Beslutsbrev", "Decision letter"],
  share: ["Kopioi jakolinkki", "Kopiera delningslänk", "Copy a link to share"],
  linkCopied: ["Linkki on osoiterivillä ja leikepöydällä.", "Länken finns i adressfältet och urklipp.", "The link is in the address bar and on the clipboard."],
  saveExample: ["Tallenna esimerkiksi", "Spara som exempel", "Save as an example"],
  exampleName: ["Esimerkin nimi", "Exemplets namn", "Example name"],
  appendExample: ["Lisää sääntökirjaan", "Lägg till i regelboken", "Add to the rulebook"],
  appended: ["Esimerkki lisättiin tiedostoon", "Exemplet lades till i filen", "The example was added to the file"],
  add: ["Lisää", "Lägg till", "Add"],
  remove: ["Poista", "Ta bort", "Remove"],
  member: ["Jäsen", "Medlem", "Member"],
  decidedBy: ["Päätetty versiolla", "Beslutat med version", "Decided by version"],
  failedCriteria: ["Täyttymättömät ehdot", "Ej uppfyllda villkor", "Criteria not met"],
  providersHelp: ["Tuottajat CSV- tai JSON-muodossa: ensimmäinen sarake on tuottajan nimi, muut syötteitä polun mukaan (esim. service.hourly_price).", "Producenter som CSV eller JSON: första kolumnen är producentens namn, de andra indata enligt sökväg (t.ex. service.hourly_price).", "Providers as CSV or JSON: the first column is the provider's name, the others inputs by path (such as service.hourly_price)."],
  providersFile: ["Tuottajien hinnat (CSV tai JSON)", "Producenternas priser (CSV eller JSON)", "The providers' prices (CSV or JSON)"],
  orUpload: ["tai lataa tiedosto", "eller ladda upp en fil", "or upload a file"],
  compare: ["Vertaa", "Jämför", "Compare"],
  sortBy: ["Järjestä tuloksen mukaan", "Sortera efter resultat", "Sort by result"],
  provider: ["Tuottaja", "Producent", "Provider"],
  customerCase: ["Asiakkaan tapaus", "Kundens fall", "The customer's case"],
  oldVersion: ["Vanha versio", "Gammal version", "Old version"],
  newVersion: ["Uusi versio", "Ny version", "New version"],
  population: ["Väestö (JSON Lines tai CSV)", "Population (JSON Lines eller CSV)", "Population (JSON Lines or CSV)"],
  breakdown: ["Erittely syötteen mukaan (valinnainen)", "Uppdelning efter indata (valfri)", "Breakdown by input (optional)"],
  save: ["Tallenna", "Spara", "Save"],
  saved: ["Tallennettu", "Sparat", "Saved"],
  unsaved: ["Tallentamattomia muutoksia", "Osparade ändringar", "Unsaved changes"],
  readOnly: ["Vain luku: muokkaus tallentuu vain komennolla rulebook studio.", "Endast läsning: ändringar sparas bara med rulebook studio.", "Read-only: changes are saved only in rulebook studio."],
  findings: ["Havainnot", "Fynd", "Findings"],
  noFindings: ["Ei havaintoja.", "Inga fynd.", "No findings."],
  line: ["rivi", "rad", "line"],
  passed: ["läpäisi", "godkänt", "passed"],
  failed: ["epäonnistui", "misslyckades", "failed"],
  file: ["Tiedosto", "Fil", "File"],
  definedAt: ["Määritelty", "Definierad", "Defined"],
  usedAt: ["Käytetään riveillä", "Används på rader", "Used on lines"],
  eligibility: ["Oikeus", "Rätt", "Eligibility"],
  apiKey: ["API-avain", "API-nyckel", "API key"],
  keyNeeded: ["Tämä palvelu vaatii API-avaimen (rooli decide).", "Tjänsten kräver en API-nyckel (roll decide).", "This service needs an API key (role decide)."],
  use: ["Käytä", "Använd", "Use"],
  error: ["Virhe", "Fel", "Error"],
  refused: ["Näitä versioita ei käytetä päätöksissä:", "Dessa versioner används inte i beslut:", "These versions are not used for decisions:"],
  chooseProgramme: ["Valitse ohjelma", "Välj program", "Choose a programme"],
  noParameters: ["Ei parametreja.", "Inga parametrar.", "No parameters."],
  rows: ["riviä", "rader", "rows"],
  tables: ["Taulukot", "Tabeller", "Tables"],
  cells: ["Solujen arvot versioittain", "Cellvärden per version", "Cell values by version"],
  yes: ["kyllä", "ja", "yes"],
  no: ["ei", "nej", "no"],
  reasons: ["Perustelut", "Skäl", "Reasons"],
  dependsOn: ["käyttää", "använder", "uses"],
  shownAbove: ["katso yllä", "se ovan", "see above"],
  allowed: ["sallittu", "tillåtet", "allowed"],
};

const order = { fi: 0, sv: 1, en: 2 };
let current = "en";

export function setLanguage(l) {
  current = order[l] === undefined ? "en" : l;
  document.documentElement.lang = current;
}
export function lang() { return current; }
export function t(key) {
  const w = words[key];
  return w ? w[order[current]] : key;
}

// A date as the language writes it.
export function date(iso) {
  if (!iso) return t("open");
  const [y, m, d] = iso.split("-").map(Number);
  if (current === "en") {
    const months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
    return `${d} ${months[m - 1]} ${y}`;
  }
  return `${d}.${m}.${y}`;
}

// A range as the checker writes it (`0 € or more`, `1 to 16`), in the
// language.
export function range(text) {
  const more = /^(.*) or more$/.exec(text);
  const less = /^(.*) or less$/.exec(text);
  const between = /^(.*) to (.*)$/.exec(text);
  if (more) return [`vähintään ${amount(more[1])}`, `minst ${amount(more[1])}`, `${more[1]} or more`][order[current]];
  if (less) return [`enintään ${amount(less[1])}`, `högst ${amount(less[1])}`, `${less[1]} or less`][order[current]];
  if (between) return current === "en" ? text : `${amount(between[1])}–${amount(between[2])}`;
  return amount(text);
}

// An amount as the rulebook writes it (`1234.50 €`) in the language's form:
// `1 234,50 €` in Finnish and Swedish.
export function amount(text) {
  if (text === true || text === "true") return t("yes");
  if (text === false || text === "false") return t("no");
  if (typeof text !== "string") return String(text);
  if (current === "en") return text;
  return text.replace(/-?\d+(\.\d+)?/g, (n) => {
    const [i, f] = n.split(".");
    const grouped = i.replace(/\B(?=(\d{3})+(?!\d))/g, "\u00a0");
    return f === undefined ? grouped : `${grouped},${f}`;
  });
}
