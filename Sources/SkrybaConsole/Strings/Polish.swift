import Foundation
import SkrybaConfig

/// Konsola po polsku (`language = "pl"`, domyślnie).
struct Polish: ConsoleStrings {
    let code = "pl"
    let yes = "tak"
    let no = "nie"
    let none = "brak"

    func banner(_ version: String, _ user: String) -> String {
        "Konsola Skryba \(version), zalogowano jako \(user). Wpisz help, by zobaczyć polecenia; help POLECENIE lub POLECENIE ? opisuje jedno."
    }
    func notConfiguredNotice(_ path: String) -> String {
        "Urządzenie nie jest skonfigurowane: brak pliku \(path), więc nic nie jest nagrywane. Wpisz setup, aby je skonfigurować."
    }
    func notConfiguredShort(_ path: String) -> String { "Konfiguracja: brak (nie ma pliku \(path); wpisz setup)" }
    func configurationHasProblems(_ path: String) -> String { "Konfiguracji \(path) nie można użyć; nic nie zostanie zmienione, dopóki nie zostanie poprawiona (setup zapisze nową):" }
    func configurationLine(_ path: String, _ recorderID: String) -> String { "Konfiguracja: \(path) (rejestrator \(recorderID))" }
    func unknownCommand(_ name: String, _ commands: String) -> String { "Nieznane polecenie „\(name)”. Polecenia: \(commands). Wpisz help, aby zobaczyć, co robią." }
    func cannotReadFile(_ path: String) -> String { "Nie można odczytać pliku \(path)." }

    let helpIntro = "Polecenia:"
    let helpOutro = "Klawisze: strzałki w lewo/prawo, Home/End, Backspace, ^U (kasuje wiersz), ^W (kasuje słowo), strzałki w górę/dół (historia), Tab (uzupełnia)."
    let helpStatus = "stan urządzenia w skrócie"
    let helpStatusDetails = "Każda linia z nazwą, stanem i bieżącym poziomem, trwające rozmowy, zajęte i wolne miejsce z liczbą dni nagrywania, zegar, alarmy, odcisk klucza urządzenia i wersja."
    let helpLines = "skonfigurowane linie"
    let helpLinesDetails = "Numer, nazwa, nagrywane rozmowy, sposób wyrażania zgody i bieżący stan każdej linii."
    let helpLine = "pokazuje lub zmienia jedną linię"
    let helpLineDetails = """
        line 1                          pokazuje linię 1
        line 1 name "Biuro podawcze"    zmienia jej nazwę
        line 1 record incoming,outgoing które rozmowy nagrywa (incoming – przychodzące, outgoing – wychodzące, both – obie)
        line 1 announcement PLIK        plik WAV odtwarzany przed rozmową przychodzącą (16 bitów, mono, częstotliwość [audio])
        line 1 consent continue         kontynuowanie rozmowy po komunikacie oznacza zgodę
        line 1 consent opt-out-key 9    naciśnięcie 9 oznacza sprzeciw (0-9, *, #, A-D)
        Każda zmiana jest sprawdzana jak plik, zapisywana, odnotowywana w dzienniku i stosowana bez przerywania rozmów.
        """
    let helpSet = "zmienia ustawienie"
    let helpSetDetails = """
        set retention 30d        nagrania są przechowywane 30 dni (od 1d do 3650d)
        set retention 6m         przez 6 miesięcy kalendarzowych (od 1m do 120m)
        set retention capacity   tak długo, jak pozwala pamięć; najstarsze są usuwane pierwsze
        set language pl|en       język konsoli
        Zmiana okresu przechowywania, która usunęłaby nagrania, podaje ich liczbę i prosi o potwierdzenie.
        """
    let helpAnnouncement = "odtwarza komunikat linii"
    let helpAnnouncementDetails = "announcement test N odtwarza komunikat linii N na jej wyjściu, tak jak słyszy go dzwoniący, gdy skrybad jest zatrzymany (działający skrybad zajmuje urządzenie odtwarzania)."
    let helpLevels = "bieżące poziomy sygnału (nic nie jest zapisywane)"
    let helpLevelsDetails = "Poziom każdej linii w dBFS, odświeżany dwa razy na sekundę do naciśnięcia klawisza: do sprawdzania okablowania."
    let helpAlarms = "aktywne alarmy i ich historia"
    let helpAlarmsDetails = "Każdy zgłoszony alarm z czasem zgłoszenia i, gdy ustał, czasem ustania."
    let helpLog = "ostatnie wpisy dziennika zdarzeń"
    let helpLogDetails = "log pokazuje 20 ostatnich wpisów dziennika zdarzeń, log N – N ostatnich (od 1 do 500). Nagrania są oznaczone tylko identyfikatorem, bez numerów telefonów."
    let helpRecipients = "klucze, dla których szyfrowane są nagrania"
    let helpRecipientsDetails = """
        recipients              wyświetla je
        recipients add age1…    dodaje klucz publiczny organizacji (wypisuje go age-keygen -y)
        recipients remove N     usuwa N-ty (lub podany klucz); co najmniej jeden musi zostać
        """
    let helpTime = "zegar"
    let helpTimeDetails = "Czas lokalny (Europe/Warsaw), UTC oraz czy zegar jest zsynchronizowany (nagrania przy niezsynchronizowanym zegarze są oznaczane)."
    let helpSetup = "pierwsza konfiguracja: zapisuje nową konfigurację"
    let helpSetupDetails = "Pyta o linie (liczbę, nazwy, piny GPIO płytki), nagrywane rozmowy, komunikat, odbiorców i okres przechowywania, po czym zapisuje sprawdzoną konfigurację na podstawie szablonu z komentarzami."
    let helpReboot = "uruchamia urządzenie ponownie"
    let helpRebootDetails = "Prosi o potwierdzenie, a potem uruchamia urządzenie ponownie; trwające rozmowy są najpierw kończone i zapisywane."
    let helpHelp = "ta lista albo help POLECENIE"
    let helpHelpDetails = "help wyświetla polecenia; help POLECENIE, POLECENIE ? oraz ? POLECENIE opisują jedno."
    let helpExit = "wylogowuje"
    let helpExitDetails = "Kończy sesję (to samo robi ^D w pustym wierszu)."

    func changeRefused(_ why: String) -> String { "Nie zmieniono: \(why)" }
    let changeInvalid = "Nie zmieniono: konfiguracja miałaby takie problemy:"
    func unchanged(_ key: String, _ value: String) -> String { "\(key) ma już wartość \(value); nic nie zmieniono." }
    func cannotPreview(_ why: String) -> String { "Nie zmieniono: nie można ustalić, co usunąłby nowy okres przechowywania (\(why))." }
    func retentionWouldDelete(_ count: Int) -> String { "Przy najbliższym przeglądzie zostanie usuniętych nagrań: \(count). Zmienić?" }
    let nothingChanged = "Nic nie zmieniono."
    func cannotWrite(_ path: String, _ why: String) -> String { "Nie zmieniono: nie można zapisać \(path) (\(why))." }
    func auditFailed(_ why: String) -> String { "ALARM: plik został zmieniony, ale nie udało się zapisać wpisu w dzienniku (\(why))." }
    func changed(_ key: String, _ from: String, _ to: String) -> String { "\(key): \(from) → \(to). Zapisano i odnotowano w dzienniku." }
    func changedAuditedAtStart(_ key: String, _ from: String, _ to: String) -> String { "\(key): \(from) → \(to). Zapisano; skrybad odnotuje zmianę w dzienniku przy uruchomieniu." }
    func applied(_ applied: [String], _ needsRestart: [String]) -> String {
        (applied.isEmpty ? "skrybad odczytał plik i odnotował zmianę w dzienniku" : "skrybad zastosował: \(applied.joined(separator: ", ")) i odnotował zmianę w dzienniku")
            + (needsRestart.isEmpty ? "; trwające rozmowy są nagrywane dalej." : "; \(needsRestart.joined(separator: ", ")) zadziała po ponownym uruchomieniu skrybad.")
    }
    func appliesAtStart(_ why: String) -> String { "skrybad nie działa (\(why)); zastosuje zmianę przy uruchomieniu." }
    func notApplied(_ why: String) -> String { "skrybad nie zastosował zmiany (\(why)); plik jest zapisany i zadziała przy następnym uruchomieniu." }

    func statusTitle(_ version: String) -> String { "Skryba \(version)" }
    let daemonRunning = "skrybad: działa"
    func daemonNotRunning(_ why: String) -> String { "skrybad nie działa (\(why))." }
    let linesHeading = "Linie:"
    func callInProgress(_ direction: String, _ seconds: Int) -> String { "rozmowa \(direction), \(seconds) s" }
    func lineState(_ state: String) -> String {
        switch state {
        case "idle": "bezczynna"
        case "ringing": "dzwoni"
        case "announcing": "komunikat"
        case "recording": "nagrywa"
        case "off-hook": "podniesiona słuchawka"
        case "on-hook": "odłożona słuchawka"
        case "starting": "uruchamia się"
        case "not-recorded": "nienagrywana"
        case "dead": "martwa"
        default: state
        }
    }
    func callsInProgress(_ count: Int) -> String { "Trwające rozmowy: \(count)" }
    let stateUnknown = "nieznany"
    let callsUnknown = "Trwające rozmowy: nieznane"
    let noLines = "brak skonfigurowanych linii"
    func storage(_ used: String, _ free: String, _ days: String) -> String { "Pamięć: zajęte \(used), wolne \(free), \(days)" }
    func daysLeft(_ days: Double) -> String { String(format: "wystarczy na %.0f dni nagrywania", days) }
    let daysLeftUnknown = "liczba dni nieznana"
    let storageUnknown = "Pamięć: nieznana"
    func clock(_ time: String, _ state: String) -> String { "Zegar: \(time), \(state)" }
    let synchronised = "zsynchronizowany"
    let notSynchronised = "NIEzsynchronizowany"
    let noAlarms = "Alarmy: brak"
    func activeAlarms(_ count: Int) -> String { "Alarmy: aktywne \(count)" }
    let alarmsUnknown = "Alarmy: nieznane"
    func fingerprint(_ value: String) -> String { "Odcisk klucza urządzenia: \(value)" }
    func version(_ value: String) -> String { "Wersja: \(value)" }
    func unknownBecause(_ why: String) -> String { "nieznany (\(why))" }

    func direction(_ raw: String) -> String {
        switch raw {
        case "incoming": "przychodząca"
        case "outgoing": "wychodząca"
        default: raw
        }
    }
    func consent(_ consent: LineConfiguration.Consent) -> String {
        switch consent {
        case .continueMeansConsent: "continue (kontynuowanie = zgoda)"
        case .optOutKey(let key): "opt-out-key \(key) (klawisz \(key) = sprzeciw)"
        }
    }
    let lineUsage = "Użycie: line N albo line N name TEKST | record incoming,outgoing | announcement PLIK | consent continue | consent opt-out-key KLAWISZ"
    func notALineNumber(_ text: String) -> String { "„\(text)” nie jest numerem linii; podaj numer, który pokazuje polecenie lines (np. line 1)." }
    func noSuchLine(_ id: Int, _ configured: String) -> String { "Nie ma linii \(id); skonfigurowane linie to \(configured)." }
    func notADirection(_ word: String) -> String { "„\(word)” nie jest kierunkiem rozmowy; podaj incoming, outgoing albo both." }
    let consentUsage = "Użycie: line N consent continue albo line N consent opt-out-key KLAWISZ (KLAWISZ: 0-9, *, #, A-D)."
    func unknownLineField(_ field: String) -> String { "Linia nie ma ustawienia „\(field)”; podaj name, record, announcement albo consent." }
    func lineTitle(_ id: Int, _ name: String) -> String { "Linia \(id): \(name)" }
    func channels(_ capture: Int, _ playback: Int) -> String { "kanał nagrywania \(capture), kanał odtwarzania \(playback)" }
    func records(_ directions: String) -> String { "nagrywa rozmowy: \(directions)" }
    func announcementLine(_ text: String) -> String { "komunikat: \(text)" }
    func consentLine(_ text: String) -> String { "zgoda: \(text)" }
    func pins(_ ring: String, _ hook: String) -> String { "dzwonek: \(ring); słuchawka: \(hook)" }

    let setUsage = "Użycie: set retention WARTOŚĆ (30d, 6m albo capacity) albo set language pl|en."
    func notARetention(_ value: String) -> String {
        "„\(value)” nie jest okresem przechowywania; podaj dni, np. 30d (od 1d do 3650d), miesiące kalendarzowe, np. 6m (od 1m do 120m), albo capacity."
    }
    func notALanguage(_ value: String) -> String { "„\(value)” nie jest językiem konsoli; podaj pl (polski) albo en (angielski)." }
    func unknownSetting(_ name: String) -> String { "Nie ma ustawienia „\(name)”; set przyjmuje retention albo language." }
    func recipientsHeading(_ count: Int) -> String { "Nagrania są szyfrowane dla odbiorców (\(count)):" }
    let recipientsUsage = "Użycie: recipients, recipients add age1… albo recipients remove N|age1…"
    func notARecipient(_ why: String) -> String { "To nie jest klucz odbiorcy: \(why)" }
    let recipientAlreadyThere = "Ten odbiorca jest już skonfigurowany; nic nie zmieniono."
    func noSuchRecipient(_ text: String, _ count: Int) -> String { "„\(text)” nie jest żadnym z odbiorców (\(count)); podaj numer z polecenia recipients albo cały klucz age1…." }

    let announcementUsage = "Użycie: announcement test N (N: numer linii)."
    func noAnnouncement(_ line: Int) -> String { "Linia \(line) nie ma komunikatu (nie nagrywa rozmów przychodzących)." }
    func playedByDaemon(_ line: Int, _ announcementID: String, _ seconds: Double, _ channel: Int) -> String {
        "skrybad odtwarza komunikat \(announcementID) linii \(line) (\(String(format: "%.1f", seconds)) s) na jej wyjście, kanał odtwarzania \(channel). Próba jest zapisana w dzienniku zdarzeń; rozmowa, która zacznie się w tym czasie, dostanie własny komunikat."
    }
    func notPlayed(_ why: String) -> String { "Komunikat nie został odtworzony: \(why)" }
    func playedHere(_ file: String, _ seconds: Double, _ pcm: String, _ channel: Int) -> String {
        "Odtworzono \(file) (\(String(format: "%.1f", seconds)) s) na \(pcm), kanał \(channel)."
    }
    let levelsHint = "Poziomy w dBFS (od -60 do 0); naciśnij dowolny klawisz, aby zakończyć."
    let alarmHistory = "Historia:"
    func onLine(_ line: Int) -> String { " na linii \(line)" }
    func raised(_ time: String) -> String { "zgłoszony \(time)" }
    func cleared(_ time: String) -> String { "ustał \(time)" }
    let logUsage = "Użycie: log albo log N, gdzie N od 1 do 500."
    func noCatalog(_ directory: String) -> String { "W \(directory) nie ma jeszcze katalogu nagrań, więc nie ma dziennika." }
    func cannotReadLog(_ directory: String, _ why: String) -> String { "Nie można odczytać dziennika zdarzeń w \(directory) (\(why))." }
    func logHeading(_ count: Int) -> String { "Ostatnie wpisy dziennika zdarzeń: \(count) (nr, czas, rodzaj, dotyczy, kto, szczegóły):" }
    func timeReport(_ local: String, _ utc: String, _ state: String, _ reason: String) -> String {
        "Czas lokalny: \(local)\nUTC:          \(utc)\nZegar:        \(state) (\(reason))"
    }
    let rebootQuestion = "Uruchomić urządzenie ponownie? Trwające rozmowy zostaną najpierw zakończone i zapisane."
    let notRebooted = "Nie uruchomiono ponownie."
    let rebooting = "Ponowne uruchamianie…"
    func rebootFailed(_ why: String) -> String { "Ponowne uruchomienie nie powiodło się: \(why)" }

    func setupReplaces(_ path: String) -> String { "Plik \(path) istnieje. Zastąpić go nową konfiguracją? (obecna zostanie zachowana jako \(path).previous)" }
    let setupIntro = "Pierwsza konfiguracja. Enter przyjmuje odpowiedź w nawiasie."
    let askLanguage = "Język konsoli (pl, en)"
    func profilesAvailable(_ names: String) -> String { "Profile GPIO płytek: \(names)." }
    let askBoard = "Płytka"
    func noProfiles(_ directory: String) -> String { "Brak profilu GPIO płytki (gpio-*.toml) w \(directory): linie nie dostaną pinów dzwonka i słuchawki." }
    func askLineCount(_ most: Int) -> String { "Ile linii jest podłączonych (od 1 do \(most))" }
    func askLineName(_ id: Int) -> String { "Nazwa linii \(id)" }
    func defaultLineName(_ id: Int) -> String { "Linia \(id)" }
    let askDirections = "Które rozmowy nagrywać (incoming – przychodzące, outgoing – wychodzące, both – obie)"
    let askAnnouncement = "Plik WAV komunikatu dla rozmów przychodzących (16 bitów, mono, 8000 Hz; względem /etc/skryba)"
    let recipientsIntro = "Klucze publiczne age organizacji (age1…, z age-keygen -y); pusty wiersz kończy listę."
    func askRecipient(_ number: Int) -> String { "Odbiorca \(number)" }
    let recipientRequired = "Potrzebny jest co najmniej jeden odbiorca: bez niego nic nie jest nagrywane."
    let askRetention = "Okres przechowywania (30d, 6m, capacity)"
    let setupInvalid = "Konfiguracja nie została zapisana; miałaby takie problemy (wpisz setup, aby spróbować ponownie):"
    func setupDone(_ path: String, _ lines: Int) -> String { "Zapisano \(path), linie: \(lines); konfiguracja jest sprawdzona i odnotowana w dzienniku." }
    func setupDoneAuditedAtStart(_ path: String, _ lines: Int) -> String { "Zapisano \(path), linie: \(lines); konfiguracja jest sprawdzona, a skrybad odnotuje ją w dzienniku przy uruchomieniu." }
    func answerNotUnderstood(_ answer: String) -> String { "„\(answer)” nie jest jedną z odpowiedzi na to pytanie; spróbuj ponownie." }
}
