//! Vendor names: countries, legal forms, sector words and brand names, and how a name is
//! built, varied and written without its diacritics.

use super::*;

/// The language a vendor's name, dates and amounts are written in; indexes `SECTORS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Lang {
    De = 0,
    Fr = 1,
    Es = 2,
    It = 3,
    Nl = 4,
    En = 5,
}

#[derive(Debug)]
pub(super) struct LegalForm {
    pub(super) name: &'static str,
    /// How extraction writes it instead; a leading comma attaches to the word before.
    pub(super) variants: &'static [&'static str],
}

pub(super) const GMBH: LegalForm = LegalForm {
    name: "GmbH",
    variants: &["Gmbh", "GMBH", "GmbH.", "Ges.m.b.H."],
};
pub(super) const AG: LegalForm = LegalForm {
    name: "AG",
    variants: &["A.G.", "Aktiengesellschaft", "AG."],
};
pub(super) const GMBH_CO_KG: LegalForm = LegalForm {
    name: "GmbH & Co. KG",
    variants: &[
        "GmbH & Co KG",
        "GmbH&Co. KG",
        "GmbH & Co.KG",
        "GmbH u. Co. KG",
    ],
};
pub(super) const EK: LegalForm = LegalForm {
    name: "e.K.",
    variants: &["e. K.", "eK", "e.Kfm."],
};
pub(super) const SA_CH: LegalForm = LegalForm {
    name: "SA",
    variants: &["S.A.", "AG", "S.A"],
};
pub(super) const SAS: LegalForm = LegalForm {
    name: "SAS",
    variants: &["S.A.S.", "Sas", "S.A.S"],
};
pub(super) const SARL: LegalForm = LegalForm {
    name: "SARL",
    variants: &["S.A.R.L.", "Sàrl", "Sarl"],
};
pub(super) const SA: LegalForm = LegalForm {
    name: "S.A.",
    variants: &["SA", "S.A", "S. A."],
};
pub(super) const SL: LegalForm = LegalForm {
    name: "S.L.",
    variants: &["SL", "S.L.U.", "S.L"],
};
pub(super) const SRL: LegalForm = LegalForm {
    name: "S.r.l.",
    variants: &["Srl", "S.R.L.", "SRL", "s.r.l."],
};
pub(super) const SPA: LegalForm = LegalForm {
    name: "S.p.A.",
    variants: &["SpA", "S.P.A.", "Spa"],
};
pub(super) const BV: LegalForm = LegalForm {
    name: "B.V.",
    variants: &["BV", "B.V", "bv"],
};
pub(super) const NV: LegalForm = LegalForm {
    name: "N.V.",
    variants: &["NV", "N.V"],
};
pub(super) const LTD: LegalForm = LegalForm {
    name: "Ltd",
    variants: &["Ltd.", "Limited", "LTD"],
};
pub(super) const LIMITED: LegalForm = LegalForm {
    name: "Limited",
    variants: &["Ltd", "Ltd.", "Ltd"],
};
pub(super) const PLC: LegalForm = LegalForm {
    name: "PLC",
    variants: &["plc", "Plc", "P.L.C."],
};
pub(super) const INC: LegalForm = LegalForm {
    name: "Inc.",
    variants: &["Inc", "Incorporated", ", Inc."],
};
pub(super) const LLC: LegalForm = LegalForm {
    name: "LLC",
    variants: &[", LLC", "L.L.C.", "Llc"],
};
pub(super) const CORP: LegalForm = LegalForm {
    name: "Corp.",
    variants: &["Corp", "Corporation", ", Corp."],
};

/// Everything about where a vendor is based that shows in its name and paperwork.
#[derive(Debug)]
pub(super) struct Country {
    pub(super) lang: Lang,
    /// Weight among vendors.
    pub(super) share: u64,
    pub(super) currencies: &'static [(&'static str, u64)],
    pub(super) legal_forms: &'static [(&'static LegalForm, u64)],
    /// Surnames, places and brand words the name is built around.
    pub(super) stems: &'static [&'static str],
    /// Cities and regions that tell two otherwise equal names apart.
    pub(super) places: &'static [&'static str],
    /// `& Söhne`, `& Fils`, ...
    pub(super) family: &'static str,
    /// Percent of names with the industry first (`Elektro Schäfer`, `Transports Guérin`).
    pub(super) industry_first: u64,
    pub(super) invoice_prefixes: &'static [&'static str],
    /// The word for invoice in file names.
    pub(super) invoice_word: &'static str,
    pub(super) date_styles: &'static [(DateStyle, u64)],
    pub(super) amount_styles: &'static [(AmountStyle, u64)],
}

pub(super) const EURO_AMOUNTS: &[(AmountStyle, u64)] = &[
    (AmountStyle::Euro, 5),
    (AmountStyle::EuroUngrouped, 2),
    (AmountStyle::EuroCodeBefore, 2),
    (AmountStyle::EuroCodeAfter, 2),
    (AmountStyle::EuroSymbolAfter, 2),
    (AmountStyle::SymbolCompact, 1),
    (AmountStyle::Anglo, 1),
];
pub(super) const ANGLO_AMOUNTS: &[(AmountStyle, u64)] = &[
    (AmountStyle::Anglo, 5),
    (AmountStyle::AngloSymbol, 4),
    (AmountStyle::AngloCode, 2),
    (AmountStyle::SymbolCompactAnglo, 1),
];
pub(super) const SWISS_AMOUNTS: &[(AmountStyle, u64)] = &[
    (AmountStyle::Swiss, 4),
    (AmountStyle::SwissPlain, 3),
    (AmountStyle::Euro, 1),
    (AmountStyle::AngloCode, 1),
];

// Word lists wrapped as prose: one word per line would bury the structure.
#[rustfmt::skip]
pub(super) static COUNTRIES: [Country; 8] = [
    Country {
        lang: Lang::De,
        share: 28,
        currencies: &[("EUR", 1)],
        legal_forms: &[(&GMBH, 60), (&AG, 10), (&GMBH_CO_KG, 18), (&EK, 12)],
        stems: &[
            "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
            "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf",
            "Schröder", "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger", "Hartmann",
            "Lange", "Werner", "Krause", "Lehmann", "Köhler", "Maier", "Huber", "Kaiser",
            "Fuchs", "Scholz", "Möller", "Vogel", "Keller", "Berger", "Roth", "Beck", "Lorenz",
            "Baumann", "Albrecht", "Winkler", "Gröner", "Krämer", "Weißenfels", "Rheinland",
            "Nordwind", "Hanse", "Elbtal", "Schwarzwald", "Bodensee", "Westfalen", "Taunus",
            "Spessart", "Harz", "Mainfranken", "Nordlicht", "Isartal", "Allgäu", "Eifel",
            "Emsland", "Vogtland", "Sauerland", "Odenwald", "Donautal", "Neckartal",
        ],
        places: &[
            "Hamburg", "München", "Köln", "Frankfurt", "Stuttgart", "Düsseldorf", "Leipzig",
            "Dresden", "Hannover", "Nürnberg", "Bremen", "Essen", "Dortmund", "Bonn",
            "Mannheim", "Augsburg", "Kiel", "Freiburg", "Würzburg", "Regensburg", "Ulm",
            "Rostock", "Kassel", "Erfurt", "Mainz", "Trier", "Aachen", "Münster", "Bielefeld",
            "Karlsruhe", "Heilbronn", "Passau", "Lübeck", "Göttingen", "Jena", "Potsdam",
            "Chemnitz", "Magdeburg", "Osnabrück", "Nord", "Süd", "West", "Ost", "Mitte",
        ],
        family: "& Söhne",
        industry_first: 30,
        invoice_prefixes: &["RE", "RG", "R", "AR"],
        invoice_word: "rechnung",
        date_styles: &[
            (DateStyle::Dotted, 6),
            (DateStyle::German, 3),
            (DateStyle::Compact, 1),
        ],
        amount_styles: EURO_AMOUNTS,
    },
    Country {
        lang: Lang::De,
        share: 6,
        currencies: &[("CHF", 9), ("EUR", 1)],
        legal_forms: &[(&AG, 60), (&GMBH, 35), (&SA_CH, 5)],
        stems: &[
            "Alpenblick", "Bergkristall", "Zürichsee", "Gotthard", "Säntis", "Pilatus", "Rigi",
            "Jura", "Emmental", "Engadin", "Aare", "Limmat", "Titlis", "Seeland", "Toggenburg",
            "Brunner", "Meier", "Steiner", "Gerber", "Frei", "Baumgartner", "Moser", "Widmer",
            "Zürcher", "Keller", "Huber", "Wyss", "Graf", "Studer", "Bühler", "Hofer", "Kälin",
            "Suter", "Fässler", "Egli",
        ],
        places: &[
            "Zürich", "Bern", "Basel", "Luzern", "Zug", "Winterthur", "St. Gallen", "Lugano",
            "Chur", "Thun", "Aarau", "Olten", "Biel", "Schaffhausen", "Baden", "Wil", "Sion",
            "Frauenfeld", "Uster", "Emmen",
        ],
        family: "& Co.",
        industry_first: 20,
        invoice_prefixes: &["RE", "R", "F"],
        invoice_word: "rechnung",
        date_styles: &[(DateStyle::Dotted, 8), (DateStyle::German, 2)],
        amount_styles: SWISS_AMOUNTS,
    },
    Country {
        lang: Lang::Fr,
        share: 13,
        currencies: &[("EUR", 1)],
        legal_forms: &[(&SAS, 45), (&SARL, 40), (&SA, 15)],
        stems: &[
            "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
            "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Bertrand", "Roux",
            "Vincent", "Fournier", "Morel", "Girard", "Mercier", "Dupont", "Lambert", "Bonnet",
            "Guérin", "Rousseau", "Faure", "Blanc", "Chevalier", "Gauthier", "Perrin",
            "Clément", "Fontaine", "Garnier", "Brunet", "Lemaire", "Gaillard", "Barbier",
            "Renard", "Picard", "Masson", "Marchand", "Dumas", "Lyonnaise", "Provençale",
            "Normande", "Bretonne", "Alsacienne", "Savoyarde", "Atlantique", "du Rhône",
            "de la Loire", "des Alpes",
        ],
        places: &[
            "Paris", "Lyon", "Marseille", "Toulouse", "Nantes", "Bordeaux", "Lille", "Rennes",
            "Reims", "Grenoble", "Dijon", "Angers", "Nîmes", "Tours", "Metz", "Brest",
            "Limoges", "Amiens", "Orléans", "Rouen", "Caen", "Nancy", "Besançon", "Poitiers",
            "Pau", "Annecy", "Valence", "Chambéry", "Troyes", "Lorient", "Nord", "Sud", "Ouest",
            "Est", "Centre",
        ],
        family: "& Fils",
        industry_first: 100,
        invoice_prefixes: &["FAC", "F", "FA", "FC"],
        invoice_word: "facture",
        date_styles: &[
            (DateStyle::Slashed, 6),
            (DateStyle::French, 3),
            (DateStyle::Compact, 1),
        ],
        amount_styles: EURO_AMOUNTS,
    },
    Country {
        lang: Lang::Es,
        share: 9,
        currencies: &[("EUR", 1)],
        legal_forms: &[(&SL, 70), (&SA, 30)],
        stems: &[
            "García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez",
            "Pérez", "Gómez", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno", "Muñoz",
            "Álvarez", "Romero", "Alonso", "Gutiérrez", "Navarro", "Torres", "Domínguez",
            "Vázquez", "Ramos", "Serrano", "Blanco", "Molina", "Morales", "Suárez", "Ortega",
            "Delgado", "Castro", "Rubio", "Marín", "Iglesias", "Núñez", "Medina", "Garrido",
            "Ibáñez", "Peñalara", "Cortés", "Castillo", "Lozano", "Guerrero", "Prieto",
            "Méndez", "Levante", "Cantábrica", "Ibérica", "Mediterránea", "Andaluza", "Gallega",
            "Castellana", "Aragonesa", "Óptima",
        ],
        places: &[
            "Madrid", "Barcelona", "Valencia", "Sevilla", "Zaragoza", "Málaga", "Murcia",
            "Bilbao", "Alicante", "Córdoba", "Valladolid", "Vigo", "Gijón", "Granada", "Oviedo",
            "Pamplona", "Almería", "Burgos", "Salamanca", "Logroño", "Huelva", "Cádiz", "León",
            "Tarragona", "Lleida", "Girona", "Norte", "Sur", "Centro",
        ],
        family: "e Hijos",
        industry_first: 100,
        invoice_prefixes: &["FV", "F", "FAC", "A"],
        invoice_word: "factura",
        date_styles: &[
            (DateStyle::Slashed, 6),
            (DateStyle::Spanish, 3),
            (DateStyle::Compact, 1),
        ],
        amount_styles: EURO_AMOUNTS,
    },
    Country {
        lang: Lang::It,
        share: 10,
        currencies: &[("EUR", 1)],
        legal_forms: &[(&SRL, 70), (&SPA, 30)],
        stems: &[
            "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
            "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa",
            "Giordano", "Rizzo", "Lombardi", "Moretti", "Barbieri", "Fontana", "Santoro",
            "Mariani", "Rinaldi", "Caruso", "Ferrara", "Galli", "Martini", "Leone", "Longo",
            "Gentile", "Martinelli", "Vitale", "Serra", "Coppola", "De Santis", "Marchetti",
            "Parisi", "Villa", "Ferri", "Fabbri", "Marini", "Grasso", "Valentini", "Sala",
            "Gatti", "Pellegrini", "Palumbo", "Farina", "Monti", "Cattaneo", "Morelli", "Amato",
            "Ducale", "Adriatica", "Lombarda", "Toscana", "Veneta", "Emiliana", "Ligure",
            "Padana",
        ],
        places: &[
            "Milano", "Torino", "Genova", "Bologna", "Firenze", "Napoli", "Bari", "Verona",
            "Padova", "Trieste", "Brescia", "Parma", "Modena", "Bergamo", "Vicenza", "Trento",
            "Bolzano", "Udine", "Ancona", "Perugia", "Pescara", "Salerno", "Lecce", "Como",
            "Varese", "Nord", "Sud", "Centro",
        ],
        family: "& Figli",
        industry_first: 100,
        invoice_prefixes: &["FT", "FATT", "FE", "F"],
        invoice_word: "fattura",
        date_styles: &[
            (DateStyle::Slashed, 6),
            (DateStyle::Italian, 3),
            (DateStyle::Dashed, 1),
        ],
        amount_styles: EURO_AMOUNTS,
    },
    Country {
        lang: Lang::Nl,
        share: 9,
        currencies: &[("EUR", 1)],
        legal_forms: &[(&BV, 85), (&NV, 15)],
        stems: &[
            "De Jong", "Jansen", "De Vries", "Van den Berg", "Van der Berg", "Van Dijk",
            "Bakker", "Visser", "Smit", "Meijer", "De Boer", "Mulder", "De Groot", "Bos", "Vos",
            "Hendriks", "Van Leeuwen", "Dekker", "Brouwer", "De Wit", "Dijkstra", "Smits",
            "De Graaf", "Van der Meer", "Van der Linden", "Kok", "Jacobs", "De Haan",
            "Vermeulen", "Van den Heuvel", "Van der Veen", "Van den Broek", "De Bruijn",
            "Van der Heijden", "Schouten", "Van Beek", "Willems", "Van Vliet", "Hoekstra",
            "Maas", "Verhoeven", "Koster", "Van Dam", "Prins", "Blom", "Huisman", "Hoogstraten",
            "Rijnmond", "Twente", "Brabant", "Veluwe", "Zeeland", "Amstel", "Maasland",
        ],
        places: &[
            "Amsterdam", "Rotterdam", "Utrecht", "Eindhoven", "Groningen", "Tilburg", "Almere",
            "Breda", "Nijmegen", "Arnhem", "Haarlem", "Enschede", "Amersfoort", "Apeldoorn",
            "Zwolle", "Leiden", "Maastricht", "Dordrecht", "Delft", "Venlo", "Noord", "Zuid",
            "Oost", "West",
        ],
        family: "& Zonen",
        industry_first: 0,
        invoice_prefixes: &["F", "FACT", "INV", "VF"],
        invoice_word: "factuur",
        date_styles: &[
            (DateStyle::Dashed, 6),
            (DateStyle::Dutch, 3),
            (DateStyle::Compact, 1),
        ],
        amount_styles: EURO_AMOUNTS,
    },
    Country {
        lang: Lang::En,
        share: 13,
        currencies: &[("GBP", 85), ("EUR", 15)],
        legal_forms: &[(&LTD, 50), (&LIMITED, 35), (&PLC, 15)],
        stems: &[
            "Thistle", "Redgate", "Greenfield", "Harbour", "Ironbridge", "Kingsway",
            "Riverside", "Oakwood", "Highland", "Pennine", "Cotswold", "Thames", "Severn",
            "Mersey", "Clyde", "Wessex", "Mercia", "Albion", "Britannia", "Crown", "Heritage",
            "Ashford", "Whitfield", "Hawthorn", "Kestrel", "Merlin", "Osprey", "Northgate",
            "Westbrook", "Southbank", "Bridgewater", "Blackstone", "Silverdale", "Lakeland",
            "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Davies", "Robinson",
            "Wright", "Thompson", "Evans", "Walker", "Roberts", "Hall", "Clarke", "Crane",
            "Hughes", "Edwards", "Turner",
        ],
        places: &[
            "London", "Manchester", "Birmingham", "Leeds", "Glasgow", "Bristol", "Sheffield",
            "Liverpool", "Edinburgh", "Cardiff", "Leicester", "Nottingham", "Coventry",
            "Belfast", "Aberdeen", "Norwich", "Exeter", "Plymouth", "York", "Oxford",
            "Cambridge", "Northern", "Southern", "Midlands", "Scotland", "Wales",
        ],
        family: "& Sons",
        industry_first: 0,
        invoice_prefixes: &["INV", "SI", "IN", "SIN"],
        invoice_word: "invoice",
        date_styles: &[
            (DateStyle::DayMonEnglish, 5),
            (DateStyle::Slashed, 3),
            (DateStyle::DayMonthEnglish, 2),
        ],
        amount_styles: ANGLO_AMOUNTS,
    },
    Country {
        lang: Lang::En,
        share: 12,
        currencies: &[("USD", 92), ("EUR", 8)],
        legal_forms: &[(&INC, 45), (&LLC, 35), (&CORP, 20)],
        stems: &[
            "Keystone", "Cascade", "Lakeshore", "Bluepeak", "Alpha", "Summit", "Pinnacle",
            "Frontier", "Liberty", "Patriot", "Eagle", "Redwood", "Sierra", "Granite", "Prairie",
            "Heartland", "Bayview", "Silverline", "Northstar", "Brightwater", "Oakridge",
            "Evergreen", "Horizon", "Meridian", "Apex", "Vertex", "Zenith", "Pioneer", "Atlas",
            "Titan", "Beacon", "Canyon", "Mesa", "Timberline", "Ironwood", "Blue Ridge",
            "Miller", "Davis", "Anderson", "Carter", "Mitchell", "Parker", "Collins", "Stewart",
            "Morris", "Reed", "Cooper", "Bailey", "Murphy",
        ],
        places: &[
            "Dallas", "Houston", "Denver", "Boston", "Chicago", "Atlanta", "Phoenix", "Seattle",
            "Portland", "Austin", "Columbus", "Detroit", "Memphis", "Nashville", "Omaha",
            "Tulsa", "Reno", "Boise", "Raleigh", "Richmond", "Midwest", "Pacific", "Atlantic",
            "Southwest", "Northeast",
        ],
        family: "& Sons",
        industry_first: 0,
        invoice_prefixes: &["INV", "IN", "BL"],
        invoice_word: "invoice",
        date_styles: &[
            (DateStyle::MonthDayEnglish, 6),
            (DateStyle::MonDayEnglish, 3),
            (DateStyle::Compact, 1),
        ],
        amount_styles: ANGLO_AMOUNTS,
    },
];

/// Industry words per sector, `[De, Fr, Es, It, Nl, En]`. Words of one sector and
/// language are siblings (`Haustechnik` / `Gebäudetechnik`) that near-duplicate vendors
/// share; the same sector in another language makes the sister company abroad.
pub(super) type Sector = [&'static [&'static str]; 6];

pub(super) const SECTORS: &[Sector] = &[
    [
        &["Logistik", "Spedition", "Transporte"],
        &["Transports", "Logistique", "Messageries"],
        &["Logística", "Transportes"],
        &["Trasporti", "Logistica", "Spedizioni"],
        &["Logistiek", "Transport", "Expeditie"],
        &["Logistics", "Freight", "Haulage"],
    ],
    [
        &["Haustechnik", "Gebäudetechnik", "Installationstechnik"],
        &["Génie Climatique", "Installations", "Thermique"],
        &["Instalaciones", "Fontanería"],
        &["Impianti", "Termoidraulica"],
        &["Installatietechniek", "Installaties"],
        &["Building Services", "Mechanical Services", "Plumbing"],
    ],
    [
        &["Papier", "Verpackung", "Papierhandel"],
        &["Emballages", "Papeterie", "Cartonnages"],
        &["Embalajes", "Papelera"],
        &["Imballaggi", "Cartotecnica"],
        &["Verpakkingen", "Verpakking", "Papier"],
        &["Packaging", "Paper", "Cartons"],
    ],
    [
        &["Elektro", "Elektrotechnik", "Elektroanlagen"],
        &["Électricité", "Électricité Générale"],
        &["Electricidad", "Instalaciones Eléctricas"],
        &["Elettrica", "Impianti Elettrici"],
        &["Elektrotechniek", "Elektro"],
        &["Electrical", "Electrics"],
    ],
    [
        &["Druckerei", "Druck", "Druckservice"],
        &["Imprimerie", "Impressions"],
        &["Imprenta", "Artes Gráficas"],
        &["Tipografia", "Stampa", "Arti Grafiche"],
        &["Drukkerij", "Drukwerk"],
        &["Print", "Printing", "Press"],
    ],
    [
        &["IT-Service", "IT-Systeme", "Datentechnik"],
        &["Informatique", "Systèmes"],
        &["Informática", "Sistemas"],
        &["Informatica", "Sistemi"],
        &["ICT", "Automatisering"],
        &["IT Services", "Software", "Cloud Services"],
    ],
    [
        &["Bürosysteme", "Bürobedarf", "Büroausstattung"],
        &["Fournitures de Bureau", "Bureautique"],
        &["Suministros de Oficina", "Material de Oficina"],
        &["Forniture Ufficio", "Cancelleria"],
        &["Kantoorartikelen", "Kantoorinrichting"],
        &["Office Supplies", "Office Solutions", "Office Systems"],
    ],
    [
        &["Personaldienste", "Personalservice", "Zeitarbeit"],
        &["Intérim", "Ressources Humaines"],
        &["Recursos Humanos", "Trabajo Temporal"],
        &["Lavoro Temporaneo", "Risorse Umane"],
        &["Uitzendbureau", "Personeelsdiensten"],
        &["Recruitment", "Staffing"],
    ],
    [
        &["Maschinenbau", "Metallbau", "Stahlbau"],
        &["Mécanique", "Usinage", "Chaudronnerie"],
        &["Maquinaria", "Mecanizados"],
        &["Officine Meccaniche", "Meccanica"],
        &["Machinebouw", "Metaalbewerking"],
        &["Engineering", "Industrial", "Machinery"],
    ],
    [
        &["Gebäudereinigung", "Reinigung", "Reinigungsdienst"],
        &["Nettoyage", "Propreté"],
        &["Limpiezas", "Servicios de Limpieza"],
        &["Pulizie", "Servizi di Pulizia"],
        &["Schoonmaak", "Schoonmaakdiensten"],
        &["Cleaning", "Cleaning Services"],
    ],
    [
        &["Catering", "Gastronomie", "Großküchen"],
        &["Restauration", "Traiteur"],
        &["Catering", "Restauración"],
        &["Ristorazione", "Catering"],
        &["Catering", "Horeca"],
        &["Catering", "Foods", "Hospitality"],
    ],
    [
        &["Sicherheitsdienst", "Sicherheitstechnik", "Wachschutz"],
        &["Sécurité", "Gardiennage"],
        &["Seguridad", "Vigilancia"],
        &["Sicurezza", "Vigilanza"],
        &["Beveiliging", "Bewaking"],
        &["Security", "Security Services"],
    ],
    [
        &["Werkzeuge", "Befestigungstechnik", "Schrauben"],
        &["Outillage", "Quincaillerie", "Visserie"],
        &["Ferretería", "Herramientas", "Suministros Industriales"],
        &["Ferramenta", "Utensileria", "Bulloneria"],
        &["Gereedschappen", "Bevestigingsmiddelen"],
        &["Fasteners", "Tools", "Hardware"],
    ],
    [
        &["Treuhand", "Beratung", "Steuerberatung"],
        &["Conseil", "Expertise Comptable"],
        &["Consultoría", "Asesores"],
        &["Consulenza", "Studio Associato"],
        &["Advies", "Consultancy"],
        &["Consulting", "Advisory", "Partners"],
    ],
    [
        &["Präzision", "Feinmechanik", "Präzisionstechnik"],
        &["Précision", "Composants"],
        &["Precisión", "Componentes"],
        &["Precisione", "Componenti"],
        &["Precisietechniek", "Fijnmechanica"],
        &["Precision", "Components", "Manufacturing"],
    ],
    [
        &["Medien", "Werbung", "Medienservice"],
        &["Médias", "Communication"],
        &["Comunicación", "Publicidad"],
        &["Comunicazione", "Pubblicità"],
        &["Media", "Reclame"],
        &["Media", "Marketing", "Creative"],
    ],
    [
        &["Bau", "Hochbau", "Bauunternehmung"],
        &["Construction", "Bâtiment", "Travaux Publics"],
        &["Construcciones", "Obras"],
        &["Costruzioni", "Edilizia"],
        &["Bouw", "Aannemers"],
        &["Construction", "Builders", "Contractors"],
    ],
    [
        &["Energie", "Energietechnik", "Solartechnik"],
        &["Énergie", "Énergies"],
        &["Energía", "Energías"],
        &["Energia", "Energie"],
        &["Energie", "Energietechniek"],
        &["Energy", "Power", "Utilities"],
    ],
    [
        &["Kaffeerösterei", "Lebensmittel", "Getränke"],
        &["Torréfaction", "Boissons", "Alimentation"],
        &["Cafés", "Bebidas", "Alimentación"],
        &["Caffè", "Torrefazione", "Bevande"],
        &["Koffiebranderij", "Dranken", "Levensmiddelen"],
        &["Coffee", "Beverages", "Food Supplies"],
    ],
    [
        &["Kältetechnik", "Klimatechnik", "Lüftungstechnik"],
        &["Froid", "Climatisation"],
        &["Refrigeración", "Climatización"],
        &["Refrigerazione", "Climatizzazione"],
        &["Koeltechniek", "Klimaattechniek"],
        &["Refrigeration", "Air Conditioning", "HVAC"],
    ],
    [
        &["Fahrzeugtechnik", "Autohaus", "Nutzfahrzeuge"],
        &["Automobiles", "Location de Véhicules"],
        &["Automoción", "Vehículos"],
        &["Autoveicoli", "Noleggio"],
        &["Autobedrijf", "Wagenpark"],
        &["Fleet Services", "Vehicle Hire", "Motors"],
    ],
    [
        &["Chemie", "Labortechnik"],
        &["Chimie", "Laboratoires"],
        &["Química", "Laboratorios"],
        &["Chimica", "Laboratori"],
        &["Chemie", "Laboratoria"],
        &["Chemicals", "Laboratories"],
    ],
];

/// Invented brand words (`Velora`, `Cordex`) join the stems of every country.
pub(super) const BRAND_HEADS: [&str; 20] = [
    "Nor", "Vel", "Tek", "Lum", "Cor", "Zen", "Qua", "Sol", "Vis", "Mar", "Tri", "Ori", "Alt",
    "Bel", "Cal", "Dex", "Ema", "Fle", "Gra", "Hel",
];
pub(super) const BRAND_TAILS: [&str; 15] = [
    "dex", "ion", "ora", "ix", "eon", "ava", "tec", "lio", "via", "nova", "ris", "mont", "sys",
    "tra", "lux",
];

/// A vendor name as parts, so that extraction noise can drop or vary one of them.
#[derive(Clone, Debug)]
pub(super) struct VendorName {
    pub(super) country: &'static Country,
    pub(super) stem: String,
    /// `& Weber`, `& Söhne`: a distinguishing partner after the stem.
    pub(super) partner: Option<String>,
    pub(super) sector: usize,
    pub(super) word: usize,
    pub(super) industry_first: bool,
    /// Distinguishing cities or regions after the industry.
    pub(super) places: Vec<&'static str>,
    pub(super) legal: &'static LegalForm,
}

impl VendorName {
    pub(super) fn industry(&self) -> &'static str {
        let words = SECTORS[self.sector][self.country.lang as usize];
        words[self.word % words.len()]
    }

    /// The words before the legal form, with where the stem and the industry are.
    pub(super) fn core(&self) -> Core<'_> {
        let mut words = Vec::with_capacity(3 + self.places.len());
        if self.industry_first {
            words.push(self.industry());
        }
        let stem = words.len();
        words.push(self.stem.as_str());
        if let Some(partner) = &self.partner {
            words.push(partner.as_str());
        }
        let industry = if self.industry_first {
            0
        } else {
            words.push(self.industry());
            words.len() - 1
        };
        words.extend(self.places.iter().copied());
        Core {
            words,
            stem,
            industry,
        }
    }

    pub(super) fn display(&self) -> String {
        let mut out = self.core().words.join(" ");
        push_legal(&mut out, self.legal.name);
        out
    }

    /// Two vendors may not share this: the name without its legal form, case folded.
    pub(super) fn key(&self) -> String {
        self.core().words.join(" ").to_lowercase()
    }

    /// Up to three capitals from the stem's words and the industry: `VDB`, `KS`.
    pub(super) fn initials(&self) -> String {
        let words = self
            .stem
            .split_whitespace()
            .chain(self.industry().split_whitespace());
        let letters =
            words.filter_map(|w| strip_diacritics(w).chars().find(char::is_ascii_alphabetic));
        letters.take(3).map(|c| c.to_ascii_uppercase()).collect()
    }

    /// For file names: `mueller`, `vanderberg-verpakkingen`.
    pub(super) fn slug(&self, with_industry: bool) -> String {
        let mut slug = slugify(&self.stem);
        if with_industry {
            let industry = slugify(self.industry().split_whitespace().next().unwrap_or(""));
            if !industry.is_empty() {
                slug.push('-');
                slug.push_str(&industry);
            }
        }
        slug
    }
}

pub(super) struct Core<'a> {
    pub(super) words: Vec<&'a str>,
    pub(super) stem: usize,
    pub(super) industry: usize,
}

pub(super) fn push_legal(out: &mut String, legal: &str) {
    if !legal.starts_with(',') && !out.is_empty() {
        out.push(' ');
    }
    out.push_str(legal);
}

/// Lower-case ASCII letters and digits only, umlauts written out.
pub(super) fn slugify(text: &str) -> String {
    strip_diacritics(&expand_umlauts(text))
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The letters a character is written with when its accent is lost; empty for a
/// character without one.
pub(super) fn strip_diacritic(c: char) -> &'static str {
    match c {
        'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' => "a",
        'è' | 'é' | 'ê' | 'ë' => "e",
        'ì' | 'í' | 'î' | 'ï' => "i",
        'ò' | 'ó' | 'ô' | 'ö' | 'õ' => "o",
        'ù' | 'ú' | 'û' | 'ü' => "u",
        'ñ' => "n",
        'ç' => "c",
        'ß' => "ss",
        'À' | 'Á' | 'Â' | 'Ä' => "A",
        'È' | 'É' | 'Ê' => "E",
        'Í' | 'Î' => "I",
        'Ó' | 'Ô' | 'Ö' => "O",
        'Ú' | 'Ü' => "U",
        'Ñ' => "N",
        'Ç' => "C",
        _ => "",
    }
}

pub(super) fn strip_diacritics(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match strip_diacritic(c) {
            "" => out.push(c),
            folded => out.push_str(folded),
        }
    }
    out
}

/// `Müller` as `Mueller`, `Weißenfels` as `Weissenfels`.
pub(super) fn expand_umlauts(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        match c {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'Ä' => out.push_str("Ae"),
            'Ö' => out.push_str("Oe"),
            'Ü' => out.push_str("Ue"),
            'ß' => out.push_str("ss"),
            _ => out.push(c),
        }
    }
    out
}

/// Hands out vendor names, never the same one twice (known and unknown vendors alike).
#[derive(Default)]
pub(super) struct NameBook {
    pub(super) used: HashSet<String>,
}

impl NameBook {
    pub(super) fn claim(&mut self, name: &VendorName) -> bool {
        self.used.insert(name.key())
    }

    pub(super) fn fresh(&mut self, rng: &mut Rng) -> VendorName {
        let weights: Vec<(usize, u64)> = COUNTRIES
            .iter()
            .enumerate()
            .map(|(i, c)| (i, c.share))
            .collect();
        let country = &COUNTRIES[rng.pick_weighted(&weights)];
        // Each eight failed draws add a distinguishing word; the space of names grows
        // by a factor of tens with each, so this ends quickly at any vendor count.
        let mut attempt = 0usize;
        loop {
            let name = random_name(rng, country, attempt / 8);
            if self.claim(&name) {
                return name;
            }
            attempt += 1;
        }
    }

    /// A near duplicate of `of`: a sibling industry word, a stem one letter off, or the
    /// sister company abroad. `None` when the variants drawn were taken.
    pub(super) fn variant(&mut self, rng: &mut Rng, of: &VendorName) -> Option<VendorName> {
        for _ in 0..4 {
            let mut name = of.clone();
            match rng.below(3) {
                0 => {
                    let siblings = SECTORS[name.sector][name.country.lang as usize].len();
                    if siblings < 2 {
                        continue;
                    }
                    name.word =
                        (name.word + 1 + rng.below(siblings as u64 - 1) as usize) % siblings;
                }
                1 => name.stem = tweak_stem(rng, &name.stem)?,
                _ => {
                    let abroad: Vec<usize> = (0..COUNTRIES.len())
                        .filter(|&i| COUNTRIES[i].lang != of.country.lang)
                        .collect();
                    name.country = &COUNTRIES[rng.pick(&abroad)];
                    name.word = rng.below(3) as usize;
                    name.legal = rng.pick_weighted(name.country.legal_forms);
                    name.industry_first = rng.below(100) < name.country.industry_first;
                }
            }
            if self.claim(&name) {
                return Some(name);
            }
        }
        None
    }
}

pub(super) fn random_name(
    rng: &mut Rng,
    country: &'static Country,
    extra_words: usize,
) -> VendorName {
    let stem = if rng.chance(0.15) {
        format!("{}{}", rng.pick(&BRAND_HEADS), rng.pick(&BRAND_TAILS))
    } else {
        rng.pick(country.stems).to_string()
    };
    let mut name = VendorName {
        country,
        stem,
        partner: None,
        sector: rng.below(SECTORS.len() as u64) as usize,
        word: rng.below(3) as usize,
        industry_first: rng.below(100) < country.industry_first,
        places: Vec::new(),
        legal: rng.pick_weighted(country.legal_forms),
    };
    for _ in 0..extra_words {
        if name.partner.is_none() && rng.chance(0.4) {
            let partner = if rng.chance(0.3) {
                country.family.to_string()
            } else {
                format!("& {}", rng.pick(country.stems))
            };
            name.partner = Some(partner);
        } else {
            let place = rng.pick(country.places);
            if !name.places.contains(&place) {
                name.places.push(place);
            }
        }
    }
    name
}

/// A stem one step away: `Van der Berg` / `Van den Berg`, `Bianchi` / `Bianchini`, or one
/// vowel changed.
pub(super) fn tweak_stem(rng: &mut Rng, stem: &str) -> Option<String> {
    for (from, to) in [(" der ", " den "), (" den ", " der ")] {
        if stem.contains(from) {
            return Some(stem.replacen(from, to, 1));
        }
    }
    if stem.ends_with('i') && rng.chance(0.5) {
        return Some(format!("{stem}ni"));
    }
    let chars: Vec<char> = stem.chars().collect();
    let vowels: Vec<usize> = (1..chars.len())
        .filter(|&i| "aeiou".contains(chars[i]))
        .collect();
    if vowels.is_empty() {
        return None;
    }
    let at = rng.pick(&vowels);
    let others: Vec<char> = "aeiou".chars().filter(|&v| v != chars[at]).collect();
    let mut tweaked = chars;
    tweaked[at] = rng.pick(&others);
    Some(tweaked.into_iter().collect())
}
