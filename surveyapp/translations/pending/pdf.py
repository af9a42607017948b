"""Dutch texts of the PDF report (reports/*.html) and the chart words (surveyapp/charts.py).

To be merged into surveyapp/translations/nl/LC_MESSAGES/messages.po. Keys are the exact
msgids: templates use Flask-Babel's new-style gettext, so a literal percent sign is written
``%%`` in both the msgid and the translation; the chart words (``charts.TEXT``) are not
%-formatted and keep a single ``%``. Informal register ("je"), as in the questionnaire.
Already in the catalogue and left out here: Responses, Response rate, Organisation,
Departments.
"""

NL = {
    # --- cover and contents
    "Department report: %(name)s": "Afdelingsrapport: %(name)s",
    "Report for the whole organisation": "Rapport voor de hele organisatie",
    "Survey": "Meting",
    "Period": "Periode",
    "%(n)d of %(staff)d staff (response rate %(rate)s)": (
        "%(n)d van %(staff)d medewerkers (respons %(rate)s)"
    ),
    "%(n)d respondents": "%(n)d respondenten",
    "This department": "Deze afdeling",
    "Produced on": "Gemaakt op",
    "The survey was still open when this report was made: the figures can still change.": (
        "De vragenlijst stond nog open toen dit rapport gemaakt werd: de cijfers kunnen nog "
        "veranderen."
    ),
    "Groups of fewer than %(n)d respondents are never shown, and neither is any figure from "
    "which they could be worked out.": (
        "Groepen van minder dan %(n)d respondenten worden nooit getoond, en ook geen cijfer "
        "waaruit je ze zou kunnen afleiden."
    ),
    "No results to show": "Geen resultaten om te tonen",
    "Fewer than %(n)d people answered, so this report shows no results: any figure could "
    "reveal how individuals answered.": (
        "Minder dan %(n)d mensen hebben geantwoord, dus dit rapport toont geen resultaten: elk "
        "cijfer zou kunnen verraden hoe iemand geantwoord heeft."
    ),
    "Contents": "Inhoud",
    "Summary": "Samenvatting",
    "Departments at a glance": "Afdelingen in één oogopslag",
    "Top management and staff": "Topmanagement en medewerkers",
    "Change since the previous survey": "Verandering sinds de vorige meting",
    "Appendix: how the figures were made": "Bijlage: hoe de cijfers tot stand kwamen",
    # --- summary
    "Overall maturity": "Algemene volwassenheid",
    "The average of all dimensions is %(mean)s on a scale from %(min)d to %(max)d (95%% "
    "interval %(ci)s).": (
        "Het gemiddelde van alle dimensies is %(mean)s op een schaal van %(min)d tot %(max)d "
        "(95%%-interval %(ci)s)."
    ),
    "Average score per dimension, with the benchmark": (
        "Gemiddelde score per dimensie, met de benchmark"
    ),
    "Bars: the average score of your organisation; whiskers: its 95%% interval. Hatched band: "
    "where the middle half of the norm group scores; diamond: the norm group's median. Dashed "
    "lines: the thresholds of the maturity levels named at the top.": (
        "Balken: de gemiddelde score van je organisatie; strepen: het 95%%-interval. Gearceerde "
        "band: waar de middelste helft van de normgroep scoort; ruit: de mediaan van de "
        "normgroep. Stippellijnen: de grenzen van de volwassenheidsniveaus die bovenaan staan."
    ),
    "Strengths": "Sterke punten",
    "Priorities": "Prioriteiten",
    "Too few dimensions to name priorities apart from strengths.": (
        "Te weinig dimensies om naast sterke punten ook prioriteiten te noemen."
    ),
    "What to do next": "Wat je nu kunt doen",
    "towards %(level)s": "op weg naar %(level)s",
    "A difference is called real in this report only when a statistical test shows it is "
    "unlikely to be chance. Every score has a 95%% interval: the range in which the true value "
    "lies, given how many people answered. The appendix explains the methods in plain words.": (
        "Dit rapport noemt een verschil alleen echt als een statistische toets laat zien dat "
        "toeval een onwaarschijnlijke verklaring is. Elke score heeft een 95%%-interval: het "
        "bereik waarin de echte waarde ligt, gegeven hoeveel mensen antwoordden. De bijlage "
        "legt de methoden in gewone woorden uit."
    ),
    # --- department report
    "This report shows how the %(n)d respondents of %(name)s answered, next to the whole "
    "organisation. The department's own respondents are counted; departments under it have "
    "their own reports.": (
        "Dit rapport laat zien hoe de %(n)d respondenten van %(name)s antwoordden, naast de "
        "hele organisatie. Alleen de eigen respondenten van de afdeling tellen mee; "
        "onderliggende afdelingen hebben een eigen rapport."
    ),
    "%(name)s: average score per dimension": "%(name)s: gemiddelde score per dimensie",
    "Bars: the department's average score; whiskers: its 95%% interval; black marker: the "
    "average of the whole organisation. Dashed lines: the thresholds of the maturity levels "
    "named at the top.": (
        "Balken: de gemiddelde score van de afdeling; strepen: het 95%%-interval; zwarte "
        "markering: het gemiddelde van de hele organisatie. Stippellijnen: de grenzen van de "
        "volwassenheidsniveaus die bovenaan staan."
    ),
    "Level": "Niveau",
    "Compared with the rest": "Vergeleken met de rest",
    "Agreement": "Eensgezindheid",
    "clearly higher": "duidelijk hoger",
    "clearly lower": "duidelijk lager",
    "no clear difference": "geen duidelijk verschil",
    "agree": "eensgezind",
    "“Clearly higher” or “clearly lower” means the difference with the rest of the "
    "organisation holds after correcting for the many comparisons (Benjamini–Hochberg). “No "
    "agreement”: the department's staff give such different answers that the average hides "
    "opposing views.": (
        "‘Duidelijk hoger’ of ‘duidelijk lager’ betekent dat het verschil met de rest van de "
        "organisatie overeind blijft na correctie voor de vele vergelijkingen "
        "(Benjamini–Hochberg). ‘Niet eensgezind’: de medewerkers van de afdeling antwoorden zo "
        "verschillend dat het gemiddelde tegengestelde meningen verbergt."
    ),
    "Recommendation for %(name)s at level %(level)s": (
        "Aanbeveling voor %(name)s op niveau %(level)s"
    ),
    # --- one section per dimension
    "The interval crosses the threshold between %(low)s and %(high)s, so with these answers "
    "either level is possible. Treat the level as provisional.": (
        "Het interval loopt over de grens tussen %(low)s en %(high)s, dus met deze antwoorden "
        "zijn beide niveaus mogelijk. Zie het niveau als voorlopig."
    ),
    "Benchmark: higher than %(pct)s of the %(n)d organisations in the norm group (%(group)s). "
    "The middle half of those organisations scores between %(q1)s and %(q3)s; their median is "
    "%(median)s.": (
        "Benchmark: hoger dan %(pct)s van de %(n)d organisaties in de normgroep (%(group)s). "
        "De middelste helft van die organisaties scoort tussen %(q1)s en %(q3)s; hun mediaan "
        "is %(median)s."
    ),
    "No benchmark: the norm group has too few organisations that used this questionnaire.": (
        "Geen benchmark: te weinig organisaties in de normgroep hebben deze vragenlijst gebruikt."
    ),
    # The norm group's default description (services/aggregates.py), matched in _macros.html.
    "all organisations": "alle organisaties",
    "Benchmark percentile": "Benchmarkpercentiel",
    "median %(median)s · %(n)d organisations": "mediaan %(median)s · %(n)d organisaties",
    "%(dimension)s: average score per department with its 95%% interval": (
        "%(dimension)s: gemiddelde score per afdeling met het 95%%-interval"
    ),
    "The departments differ more than chance would explain (Welch's test, %(p)s).": (
        "De afdelingen verschillen meer dan toeval kan verklaren (toets van Welch, %(p)s)."
    ),
    "The clearest differences between two departments:": (
        "De duidelijkste verschillen tussen twee afdelingen:"
    ),
    "No single pair of departments differs clearly once all pairs are taken into account.": (
        "Geen enkel paar afdelingen verschilt duidelijk als je alle paren in rekening brengt."
    ),
    "The differences between departments are no larger than chance would produce (Welch's "
    "test, %(p)s).": (
        "De verschillen tussen afdelingen zijn niet groter dan toeval zou opleveren (toets van "
        "Welch, %(p)s)."
    ),
    "About %(share)s of the differences between people lie between departments (ICC(1) %(icc)s).": (
        "Ongeveer %(share)s van de verschillen tussen mensen ligt tussen afdelingen (ICC(1) "
        "%(icc)s)."
    ),
    "Practically none of the differences between people lie between departments (ICC(1) "
    "%(icc)s).": (
        "Vrijwel niets van de verschillen tussen mensen ligt tussen afdelingen (ICC(1) %(icc)s)."
    ),
    "Staff do not agree with each other (rwg(j) below 0.70) in: %(names)s. Their average hides "
    "opposing views; talk with these teams before acting on the figure.": (
        "Medewerkers zijn het onderling niet eens (rwg(j) onder 0,70) in: %(names)s. Hun "
        "gemiddelde verbergt tegengestelde meningen; ga met deze teams in gesprek voor je op "
        "het cijfer handelt."
    ),
    "In every department shown, staff largely agree with each other (rwg(j) of at least "
    "0.70), so each average is a fair summary.": (
        "In elke getoonde afdeling zijn medewerkers het grotendeels met elkaar eens (rwg(j) van "
        "minstens 0,70), dus elk gemiddelde is een eerlijke samenvatting."
    ),
    "Statements": "Stellingen",
    "Statement": "Stelling",
    "Answers": "Antwoorden",
    "Average": "Gemiddelde",
    "Favourable": "Positief",
    "reverse-worded": "omgekeerd geformuleerd",
    "(reverse-worded)": "(omgekeerd geformuleerd)",
    "Answers to: %(item)s": "Antwoorden op: %(item)s",
    "Answer options": "Antwoordmogelijkheden",
    "Average and favourable share are scored so that higher always means more mature: for a "
    "reverse-worded statement, disagreeing is favourable. The bars show the answers as given.": (
        "Gemiddelde en aandeel positief zijn zo berekend dat hoger altijd volwassener betekent: "
        "bij een omgekeerd geformuleerde stelling is oneens zijn positief. De balken tonen de "
        "antwoorden zoals ze gegeven zijn."
    ),
    "Recommendation at level %(level)s": "Aanbeveling op niveau %(level)s",
    # --- heatmap, perception gap, change
    "Each cell is a department's average on a dimension; darker means higher. A triangle "
    "after the number marks a department that scores clearly above (▲) or below (▼) the rest "
    "of the organisation, after correcting for the many comparisons (Benjamini–Hochberg). A "
    "diamond in the corner marks a department whose staff do not agree. Hatched cells with a "
    "dash are withheld to protect anonymity.": (
        "Elke cel is het gemiddelde van een afdeling op een dimensie; donkerder betekent hoger. "
        "Een driehoekje na het getal wijst op een afdeling die duidelijk hoger (▲) of lager (▼) "
        "scoort dan de rest van de organisatie, na correctie voor de vele vergelijkingen "
        "(Benjamini–Hochberg). Een ruitje in de hoek wijst op een afdeling waarvan de "
        "medewerkers het niet eens zijn. Gearceerde cellen met een streepje blijven verborgen "
        "om de anonimiteit te beschermen."
    ),
    "Average score per department and dimension": "Gemiddelde score per afdeling en dimensie",
    "How top management's average differs from everyone else's. A positive difference means "
    "the top sees the organisation as more mature than its staff do. A difference counts as "
    "real only if it holds after Holm's correction for testing all dimensions.": (
        "Hoe het gemiddelde van het topmanagement verschilt van dat van alle anderen. Een "
        "positief verschil betekent dat de top de organisatie volwassener ziet dan de "
        "medewerkers. Een verschil telt alleen als echt als het overeind blijft na de correctie "
        "van Holm voor het toetsen van alle dimensies."
    ),
    "Top management minus staff, per dimension": "Topmanagement min medewerkers, per dimensie",
    "Dimension": "Dimensie",
    "Difference": "Verschil",
    "p (Holm)": "p (Holm)",
    "Real difference?": "Echt verschil?",
    "yes": "ja",
    "no": "nee",
    "Based on %(a)d people in top management and %(b)d other respondents.": (
        "Gebaseerd op %(a)d mensen uit het topmanagement en %(b)d andere respondenten."
    ),
    "This comparison is not shown: too few people in top management, or too few other "
    "respondents, answered to compare them without revealing individual answers.": (
        "Deze vergelijking wordt niet getoond: te weinig mensen uit het topmanagement, of te "
        "weinig andere respondenten, hebben geantwoord om ze te vergelijken zonder individuele "
        "antwoorden prijs te geven."
    ),
    "Compared with %(name)s (from %(date)s, %(n)d respondents). A positive difference is "
    "progress. A change counts as real only if it holds after Holm's correction for testing "
    "all dimensions.": (
        "Vergeleken met %(name)s (vanaf %(date)s, %(n)d respondenten). Een positief verschil "
        "is vooruitgang. Een verandering telt alleen als echt als ze overeind blijft na de "
        "correctie van Holm voor het toetsen van alle dimensies."
    ),
    "This survey minus the previous one, per dimension": "Deze meting min de vorige, per dimensie",
    "Change in score": "Verandering",
    "Effect size (g)": "Effectgrootte (g)",
    "Real change?": "Echte verandering?",
    "Effect size g: the change measured in standard deviations; around 0.2 is small, 0.5 "
    "medium, 0.8 large.": (
        "Effectgrootte g: de verandering uitgedrukt in standaarddeviaties; rond 0,2 is klein, "
        "0,5 middelgroot, 0,8 groot."
    ),
    "There is no earlier survey of this organisation with the same questionnaire to compare "
    "with.": (
        "Er is geen eerdere meting van deze organisatie met dezelfde vragenlijst om mee te "
        "vergelijken."
    ),
    # --- appendix
    "How to read a score and its interval": "Hoe je een score en het interval leest",
    "Each statement was answered on a scale from %(min)d (%(low)s) to %(max)d (%(high)s). A "
    "dimension score is the average of a person's answers to its statements; statements worded "
    "the other way round are turned around first, so a higher score always means a more open, "
    "more social organisation. “Don't know” counts as no answer.": (
        "Elke stelling is beantwoord op een schaal van %(min)d (%(low)s) tot %(max)d "
        "(%(high)s). Een dimensiescore is het gemiddelde van iemands antwoorden op de "
        "stellingen van die dimensie; stellingen die andersom geformuleerd zijn, worden eerst "
        "omgedraaid. Een hogere score betekent dus altijd een opener, socialere organisatie. "
        "‘Weet ik niet’ telt als geen antwoord."
    ),
    "Not everybody answered, so every average is an estimate. The 95%% interval is the range "
    "in which the average of all staff most probably lies. A narrow interval means the figure "
    "is precise; a wide one means few people answered or their answers varied a lot. When the "
    "intervals of two groups overlap a lot, do not read much into the difference between "
    "them.": (
        "Niet iedereen heeft geantwoord, dus elk gemiddelde is een schatting. Het "
        "95%%-interval is het bereik waarin het gemiddelde van alle medewerkers zeer "
        "waarschijnlijk ligt. Een smal interval betekent een nauwkeurig cijfer; een breed "
        "interval betekent dat weinig mensen antwoordden of dat hun antwoorden sterk "
        "uiteenliepen. Overlappen de intervallen van twee groepen flink, lees dan weinig in het "
        "verschil."
    ),
    "A maturity level is a band of scores: %(bands)s. When a score's interval crosses the edge "
    "of a band, the report says that the level is uncertain.": (
        "Een volwassenheidsniveau is een band van scores: %(bands)s. Loopt het interval van een "
        "score over de grens van een band, dan meldt het rapport dat het niveau onzeker is."
    ),
    "Which tests were used": "Welke toetsen zijn gebruikt",
    "Do departments differ? Welch's analysis of variance, which does not assume that all "
    "departments vary equally. When it finds a difference, the Games–Howell test says which "
    "pairs of departments differ, taking into account that many pairs are compared.": (
        "Verschillen afdelingen van elkaar? Dat toetst de variantieanalyse van Welch, die er "
        "niet van uitgaat dat de spreiding in alle afdelingen even groot is. Vindt die een "
        "verschil, dan wijst de toets van Games–Howell aan welke paren afdelingen verschillen, "
        "rekening houdend met het grote aantal vergeleken paren."
    ),
    "Is one department above or below the rest? Each department is compared with everyone "
    "else in the organisation (Welch's t-test). Because this is done for every department and "
    "dimension, the Benjamini–Hochberg correction keeps the share of false alarms below 5%%.": (
        "Scoort een afdeling hoger of lager dan de rest? Elke afdeling wordt vergeleken met "
        "alle anderen in de organisatie (t-toets van Welch). Omdat dat voor elke afdeling en "
        "elke dimensie gebeurt, houdt de correctie van Benjamini–Hochberg het aandeel valse "
        "alarmen onder 5%%."
    ),
    "Top management versus staff, and this survey versus the previous one: Welch's t-test per "
    "dimension, with Holm's correction because all dimensions are tested at once. Answers are "
    "anonymous, so the two surveys are compared as separate groups of people.": (
        "Topmanagement tegenover medewerkers, en deze meting tegenover de vorige: de t-toets "
        "van Welch per dimensie, met de correctie van Holm omdat alle dimensies tegelijk "
        "getoetst worden. De antwoorden zijn anoniem, dus de twee metingen worden vergeleken "
        "als aparte groepen mensen."
    ),
    "Do staff agree with each other? rwg(j) compares how much the people in a department "
    "differ with how much they would differ if everyone answered at random. From 0.70 upwards "
    "the department's staff are considered to agree; below it, the average hides opposing "
    "views.": (
        "Zijn medewerkers het met elkaar eens? rwg(j) vergelijkt hoeveel de mensen in een "
        "afdeling van elkaar verschillen met hoeveel ze zouden verschillen als iedereen "
        "willekeurig antwoordde. Vanaf 0,70 geldt dat de medewerkers van de afdeling het eens "
        "zijn; daaronder verbergt het gemiddelde tegengestelde meningen."
    ),
    "How much do departments matter? ICC(1) is the share of the differences between people "
    "that lies between departments; ICC(2) says how reliably a department's average can be "
    "told apart from other departments' (from 0.70 upwards: reliably).": (
        "Hoeveel maakt de afdeling uit? ICC(1) is het deel van de verschillen tussen mensen dat "
        "tussen afdelingen ligt; ICC(2) zegt hoe betrouwbaar je het gemiddelde van een afdeling "
        "kunt onderscheiden van dat van andere afdelingen (vanaf 0,70: betrouwbaar)."
    ),
    "Benchmark: the percentile is the share of organisations in the norm group with a lower "
    "average score (ties count half).": (
        "Benchmark: het percentiel is het aandeel organisaties in de normgroep met een lager "
        "gemiddelde (gelijke scores tellen voor de helft)."
    ),
    "Response per department": "Respons per afdeling",
    "Department": "Afdeling",
    "Staff": "Medewerkers",
    "Staff: the number of people working directly in the department, as given when the survey "
    "opened. People in a department under it are counted there.": (
        "Medewerkers: het aantal mensen dat direct in de afdeling werkt, zoals opgegeven toen "
        "de vragenlijst openging. Wie in een onderliggende afdeling werkt, telt daar mee."
    ),
    "Reliability of each dimension": "Betrouwbaarheid per dimensie",
    "Cronbach's alpha shows whether the statements of a dimension measure the same thing: from "
    "0.70 upwards the dimension score can be trusted, from 0.80 upwards it is good. It is "
    "computed from the people who answered every statement of the dimension.": (
        "Cronbachs alfa laat zien of de stellingen van een dimensie hetzelfde meten: vanaf 0,70 "
        "is de dimensiescore bruikbaar, vanaf 0,80 is ze goed. Alfa wordt berekend met de "
        "mensen die alle stellingen van de dimensie beantwoordden."
    ),
    "Alpha": "Alfa",
    "People": "Mensen",
    "Reading": "Beoordeling",
    "good": "goed",
    "acceptable": "voldoende",
    "low: read with care": "laag: voorzichtig lezen",
    "Agreement and differences between departments": (
        "Eensgezindheid en verschillen tussen afdelingen"
    ),
    "Departments that agree": "Eensgezinde afdelingen",
    "Welch's test": "Toets van Welch",
    "%(k)d of %(n)d": "%(k)d van %(n)d",
    "ω² (omega squared): the share of the differences in scores explained by the department; "
    "0.01 is small, 0.06 medium, 0.14 large.": (
        "ω² (omega-kwadraat): het deel van de verschillen in scores dat de afdeling verklaart; "
        "0,01 is klein, 0,06 middelgroot, 0,14 groot."
    ),
    "What is withheld, and why": "Wat niet getoond wordt, en waarom",
    "To keep answers anonymous, no group of fewer than %(n)d respondents is shown. Sometimes a "
    "larger group is withheld too, because otherwise a small group's figures could be worked "
    "out by subtracting one published figure from another. A group can also be shown while "
    "one of its dimensions or statements is withheld, when too few of its members answered "
    "those statements. Withheld answers still count in the organisation's figures.": (
        "Om antwoorden anoniem te houden, tonen we geen groep van minder dan %(n)d "
        "respondenten. Soms blijft ook een grotere groep verborgen, omdat je anders de cijfers "
        "van een kleine groep zou kunnen afleiden door het ene gepubliceerde cijfer van het "
        "andere af te trekken. Een groep kan ook zichtbaar zijn terwijl een van haar dimensies "
        "of stellingen verborgen blijft, als te weinig leden die stellingen beantwoordden. "
        "Verborgen antwoorden tellen wel mee in de cijfers van de organisatie."
    ),
    "Group": "Groep",
    "Reason": "Reden",
    "In this survey no group had to be withheld.": (
        "In deze meting hoefde geen enkele groep verborgen te blijven."
    ),
    # --- comparison of organisations (reports/comparison.html)
    "Organisations compared": "Organisaties vergeleken",
    "Overall": "Totaal",
    "Each organisation's figures are those of its own report. A difference between two "
    "organisations counts as real only if it holds after Holm's correction for comparing "
    "every pair of organisations on a dimension.": (
        "De cijfers van elke organisatie zijn die uit haar eigen rapport. Een verschil tussen "
        "twee organisaties telt alleen als echt als het overeind blijft na de correctie van "
        "Holm voor het vergelijken van alle paren organisaties op een dimensie."
    ),
    "%(dimension)s: average score per organisation with its 95%% interval": (
        "%(dimension)s: gemiddelde score per organisatie met het 95%%-interval"
    ),
    "Real differences:": "Echte verschillen:",
    "%(higher)s is higher than %(lower)s (by %(diff)s)": (
        "%(higher)s scoort hoger dan %(lower)s (%(diff)s meer)"
    ),
    "No difference between these organisations on this dimension is larger than chance would "
    "explain.": (
        "Op deze dimensie is geen verschil tussen deze organisaties groter dan toeval kan "
        "verklaren."
    ),
    # --- words inside the charts (surveyapp/charts.py TEXT; not %-formatted)
    "withheld": "niet getoond",
    "no agreement": "niet eensgezind",
    "not available": "niet beschikbaar",
    "organisation": "organisatie",
    "95% interval": "95%-interval",
    "benchmark median": "mediaan benchmark",
    "middle half of the benchmark": "middelste helft benchmark",
    "score": "score",
    "above the rest of the organisation": "hoger dan de rest van de organisatie",
    "below the rest of the organisation": "lager dan de rest van de organisatie",
    "difference holds after adjustment": "verschil blijft na correctie",
    "difference may be chance": "verschil kan toeval zijn",
    "staff see more": "medewerkers zien meer",
    "top management sees more": "topmanagement ziet meer",
    "lower than last time": "lager dan vorige keer",
    "higher than last time": "hoger dan vorige keer",
    "level": "niveau",
}
