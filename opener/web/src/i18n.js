// Texts for the recipient: Swedish first, English by the toggle. Plain
// words, no jargon; every message says what to do next.

export const TEXTS = {
  sv: {
    title: "Öppna krypterad bilaga",
    langToggle: "English",
    langToggleLabel: "Switch to English",
    lead: "Här öppnar du en krypterad bilaga som du har fått med e-post. Du behöver bara lösenordet från sms:et.",
    private: "Ingenting laddas upp: filen öppnas bara här i din webbläsare och lämnar aldrig din enhet.",
    fileLabel: "1. Välj den krypterade filen (.zip eller .age)",
    dropHint: "Du kan också dra och släppa filen här.",
    pick: "Välj fil",
    pickKey: "Välj nyckelfil",
    chosen: "Vald fil: {name} ({size})",
    pwLabel: "2. Skriv lösenordet från sms:et",
    pwHint: "Skriv det exakt som i sms:et, med bindestrecken.",
    showPw: "Visa lösenordet",
    keySummary: "Har du en age-nyckel i stället för ett lösenord?",
    keyLabel: "Klistra in nyckeln (AGE-SECRET-KEY-1…)",
    keyFileLabel: "eller välj nyckelfilen",
    open: "Öppna",
    busy: "Öppnar och kontrollerar filen …",
    filesHeading: "Filerna i bilagan",
    filesDone: "Klart: {n} {files} öppnade. Det krypterade innehållet är kontrollerat och oförändrat sedan avsändaren krypterade det.",
    file1: "fil",
    fileN: "filer",
    view: "Visa",
    hide: "Dölj",
    save: "Spara",
    share: "Dela",
    pdfSaveOnly: "PDF-filer visas inte på sidan (en PDF kan innehålla skript som webbläsarens PDF-visare kör). Spara filen och öppna den i ditt PDF-program.",
    truncated: "Visar de första {n} raderna.",
    previewOf: "Förhandsvisning av {name}",
    footer: "Sidan fungerar utan internet när den väl är laddad.",
    from: "Från",
    err: {
      nofile: "Välj först den krypterade filen.",
      password: "Fel lösenord. Kontrollera att du har skrivit det exakt som i sms:et, med bindestrecken, och försök igen.",
      key: "Nyckeln passar inte den här filen. Kontrollera att du har valt rätt nyckel.",
      damaged: "Filen är skadad eller har ändrats efter att den krypterades, så ingenting visas. Be avsändaren skicka den igen.",
      unsafe: "Filen öppnas inte, för att skydda din enhet: {detail} Be avsändaren skicka den på annat sätt.",
      unsupported: "Filen är krypterad på ett sätt som den här sidan inte kan öppna (till exempel den gamla ZipCrypto). Be avsändaren använda AES-256.",
      notarchive: "Det här är inte en krypterad bilaga. Välj filen som slutar på .zip eller .age.",
      notencrypted: "Zip-filen är inte krypterad. Den kan öppnas med datorns vanliga verktyg.",
      needpassword: "Skriv lösenordet från sms:et.",
      needkey: "Den här filen öppnas med en age-nyckel, inte med ett lösenord. Klistra in nyckeln under ”Har du en age-nyckel”.",
      badkey: "Det där ser inte ut som en age-nyckel. Den börjar med AGE-SECRET-KEY-1.",
      internal: "Något gick fel i webbläsaren. Försök igen, eller i en annan webbläsare.",
    },
    unsafe: {
      entries: "den innehåller {n} filer (högst {max}).",
      total: "innehållet är större än {max}.",
      ratio: "en fil växer mer än {max} gånger när den packas upp.",
      overlap: "filerna i den överlappar varandra.",
      names: "den innehåller ett otillåtet filnamn.",
      link: "den innehåller en symbolisk länk.",
      scrypt: "lösenordet är skyddat med en orimligt hög arbetsfaktor ({logN}, högst {max}).",
    },
  },
  en: {
    title: "Open encrypted attachment",
    langToggle: "Svenska",
    langToggleLabel: "Byt till svenska",
    lead: "Open an encrypted attachment that you received by e-mail. All you need is the password from the text message.",
    private: "Nothing is uploaded: the file is opened only here in your browser and never leaves your device.",
    fileLabel: "1. Choose the encrypted file (.zip or .age)",
    dropHint: "You can also drag and drop the file here.",
    pick: "Choose file",
    pickKey: "Choose key file",
    chosen: "Chosen file: {name} ({size})",
    pwLabel: "2. Type the password from the text message",
    pwHint: "Type it exactly as in the text message, including the dashes.",
    showPw: "Show the password",
    keySummary: "Do you have an age key instead of a password?",
    keyLabel: "Paste the key (AGE-SECRET-KEY-1…)",
    keyFileLabel: "or choose the key file",
    open: "Open",
    busy: "Opening and checking the file …",
    filesHeading: "Files in the attachment",
    filesDone: "Done: {n} {files} opened. The encrypted contents were checked and are unchanged since the sender encrypted them.",
    file1: "file",
    fileN: "files",
    view: "View",
    hide: "Hide",
    save: "Save",
    share: "Share",
    pdfSaveOnly: "PDF files are not shown on the page (a PDF can carry scripts that the browser's PDF viewer runs). Save the file and open it in your PDF program.",
    truncated: "Showing the first {n} rows.",
    previewOf: "Preview of {name}",
    footer: "Once loaded, the page works without the internet.",
    from: "From",
    err: {
      nofile: "First choose the encrypted file.",
      password: "Wrong password. Check that you typed it exactly as in the text message, including the dashes, and try again.",
      key: "This key does not open this file. Check that you chose the right key.",
      damaged: "The file is damaged or was changed after it was encrypted, so nothing is shown. Ask the sender to send it again.",
      unsafe: "The file was not opened, to protect your device: {detail} Ask the sender to send it another way.",
      unsupported: "The file is encrypted in a way this page cannot open (for example the old ZipCrypto). Ask the sender to use AES-256.",
      notarchive: "This is not an encrypted attachment. Choose the file that ends in .zip or .age.",
      notencrypted: "This zip file is not encrypted. Your computer's usual tools open it.",
      needpassword: "Type the password from the text message.",
      needkey: "This file is opened with an age key, not a password. Paste the key under “Do you have an age key”.",
      badkey: "That does not look like an age key. It starts with AGE-SECRET-KEY-1.",
      internal: "Something went wrong in the browser. Try again, or in another browser.",
    },
    unsafe: {
      entries: "it holds {n} files (at most {max}).",
      total: "its contents are larger than {max}.",
      ratio: "a file grows more than {max} times when unpacked.",
      overlap: "its files overlap each other.",
      names: "it holds a file name that is not allowed.",
      link: "it holds a symbolic link.",
      scrypt: "the password is protected with an absurdly high work factor ({logN}, at most {max}).",
    },
  },
};

/** fill replaces {key} in s with params[key]. */
export function fill(s, params = {}) {
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
}

/** humanSize formats bytes the way people read them, per language. */
export function humanSize(n, lang) {
  const units = ["B", "kB", "MB", "GB"];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  const s = i === 0 ? String(v) : v.toFixed(v < 10 ? 1 : 0);
  return (lang === "sv" ? s.replace(".", ",") : s) + " " + units[i];
}
