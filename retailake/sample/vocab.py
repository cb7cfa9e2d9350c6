"""Small word lists the generator draws from: enough variety to look real, small enough to read."""

from __future__ import annotations

FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Charles", "Karen", "Christopher", "Lisa", "Daniel", "Nancy", "Matthew", "Betty", "Anthony",
    "Sandra", "Mark", "Margaret", "Donald", "Ashley", "Steven", "Kimberly", "Andrew", "Emily",
    "Paul", "Donna", "Joshua", "Michelle", "Kenneth", "Carol", "Kevin", "Amanda", "Brian",
    "Melissa", "George", "Deborah", "Timothy", "Stephanie", "Ronald", "Rebecca", "Jason", "Laura",
    "Edward", "Sharon", "Jeffrey", "Cynthia", "Ryan", "Kathleen", "Jacob", "Amy", "Gary", "Angela",
    "Nicholas", "Shirley", "Eric", "Anna", "Jonathan", "Brenda", "Stephen", "Pamela", "Larry",
    "Emma", "Justin", "Nicole", "Scott", "Helen", "Brandon", "Samantha", "Benjamin", "Katherine",
    "Samuel", "Christine", "Gregory", "Debra", "Alexander", "Rachel", "Frank", "Carolyn",
    "Raymond", "Janet", "Jose", "Maria", "Luis", "Sofia", "Wei", "Mei", "Aarav", "Priya", "Noah",
    "Olivia", "Liam", "Ava", "Lukas", "Hannah", "Oliver", "Amelia", "Chloe", "Mateo",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark",
    "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres",
    "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell",
    "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker",
    "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris", "Morales", "Murphy", "Cook",
    "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey", "Reed", "Kelly",
    "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson", "Brooks", "Chavez", "Wood",
    "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes", "Price", "Alvarez", "Castillo",
    "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "O'Brien", "McDonald", "Schmidt",
    "Muller", "Chen", "Wang", "Singh", "Fischer", "Dubois", "Tremblay",
)
STREET_NAMES = (
    "Main", "Oak", "Pine", "Maple", "Cedar", "Elm", "Washington", "Lake", "Hill", "Park", "Sunset",
    "Highland", "River", "Church", "Mill", "Spring", "Ridge", "Forest", "Meadow", "Lincoln",
    "Jackson", "Franklin", "Walnut", "Chestnut", "Willow", "Cherry", "Valley", "Broad", "Market",
)
STREET_SUFFIXES = ("St", "Street", "Ave", "Avenue", "Rd", "Road", "Blvd", "Dr", "Lane", "Ct", "Way")
EMAIL_DOMAINS = (
    "gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "aol.com", "proton.me",
    "comcast.net",
)
LOYALTY_TIERS = ("Bronze", "Silver", "Gold", "Platinum")

# US states: code, full name, the abbreviation people still write.
US_STATES = (
    ("CA", "California", "Calif."), ("TX", "Texas", "Tex."), ("NY", "New York", "N.Y."),
    ("FL", "Florida", "Fla."), ("IL", "Illinois", "Ill."), ("WA", "Washington", "Wash."),
    ("MA", "Massachusetts", "Mass."), ("PA", "Pennsylvania", "Pa."), ("GA", "Georgia", "Ga."),
    ("AZ", "Arizona", "Ariz."), ("CO", "Colorado", "Colo."), ("OH", "Ohio", "Ohio"),
)
# (city, state code, postal code prefix): postal codes are the prefix plus two digits.
US_CITIES = (
    ("Los Angeles", "CA", "900"), ("San Francisco", "CA", "941"), ("San Diego", "CA", "921"),
    ("Sacramento", "CA", "958"), ("Houston", "TX", "770"), ("Austin", "TX", "787"),
    ("Dallas", "TX", "752"), ("New York", "NY", "100"), ("Brooklyn", "NY", "112"),
    ("Buffalo", "NY", "142"), ("Miami", "FL", "331"), ("Orlando", "FL", "328"),
    ("Tampa", "FL", "336"), ("Chicago", "IL", "606"), ("Springfield", "IL", "627"),
    ("Seattle", "WA", "981"), ("Spokane", "WA", "992"), ("Boston", "MA", "021"),
    ("Cambridge", "MA", "021"), ("Philadelphia", "PA", "191"), ("Pittsburgh", "PA", "152"),
    ("Atlanta", "GA", "303"), ("Savannah", "GA", "314"), ("Phoenix", "AZ", "850"),
    ("Tucson", "AZ", "857"), ("Denver", "CO", "802"), ("Boulder", "CO", "803"),
    ("Columbus", "OH", "432"), ("Cleveland", "OH", "441"),
)
# Spellings of the country as exports deliver it, most common first.
US_SPELLINGS = (
    "US", "USA", "United States", "U.S.", " united states", "us ", "United States of America",
)
US_SPELLING_WEIGHTS = (0.55, 0.15, 0.12, 0.06, 0.05, 0.04, 0.03)
# A few customers abroad: (country spellings, city, region, postal code, dialling prefix).
FOREIGN_ADDRESSES = (
    (("CA", "Canada", "canada"), "Toronto", "ON", "M5V 2T6", "+1"),
    (("CA", "Canada"), "Montreal", "Quebec", "H2X 1Y4", "+1"),
    (("CA", "Canada"), "Vancouver", "BC", "V6B 1A1", "+1"),
    (("GB", "UK", "United Kingdom"), "London", "England", "SW1A 1AA", "+44"),
    (("GB", "UK", "Great Britain"), "Edinburgh", "Scotland", "EH1 1YZ", "+44"),
    (("DE", "Germany", "Deutschland"), "Berlin", "Berlin", "10115", "+49"),
    (("DE", "Germany"), "Munich", "Bayern", "80331", "+49"),
)
FOREIGN_SHARE = 0.05

# Product catalogue: category -> (brands, item nouns, median list price in USD).
CATEGORIES = (
    ("Electronics", ("Voltix", "Sonara", "Pixelon", "Kestrel"),
     ("Headphones", "Speaker", "Charger", "Tablet", "Camera"), 89.0),
    ("Apparel", ("Northway", "Urbanite", "Calder", "Loomis"),
     ("T-Shirt", "Jeans", "Jacket", "Sweater", "Dress"), 39.0),
    ("Home", ("Hearthly", "Nestwell", "Oakline"),
     ("Lamp", "Pillow", "Blanket", "Vase", "Frame"), 29.0),
    ("Kitchen", ("Cookwise", "Panora", "Saltbox"),
     ("Skillet", "Knife Set", "Blender", "Kettle", "Mug"), 34.0),
    ("Grocery", ("Greenfield", "Daily Harvest", "Brookside"),
     ("Coffee", "Olive Oil", "Granola", "Tea", "Pasta"), 7.5),
    ("Beauty", ("Lumière", "Pure Petal", "Verity"),
     ("Shampoo", "Serum", "Lotion", "Lipstick", "Perfume"), 18.0),
    ("Toys", ("Playnest", "Brickbay", "Tinker"),
     ("Puzzle", "Board Game", "Plush", "Robot Kit", "Doll"), 24.0),
    ("Sports", ("Stridex", "Summit", "Kinetic"),
     ("Yoga Mat", "Water Bottle", "Dumbbells", "Backpack", "Sneakers"), 45.0),
)
ADJECTIVES = (
    "Classic", "Pro", "Eco", "Essential", "Deluxe", "Mini", "Ultra", "Everyday", "Signature",
    "Lite",
)
PRICE_TIER_FACTORS = (0.55, 1.0, 2.1)
