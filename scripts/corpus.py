#!/usr/bin/python3
"""corpus.py - the selection and cleaning rules of scripts/fetch-training-data.sh.

  corpus.py packages [PKG...]                  "package suite" lines to download
  corpus.py prepare DEBS_DIR OUT_DIR WORK_DIR SHEETS_DIR [PKG...]
  corpus.py check DATA_DIR                     verify an existing corpus (no network)
  corpus.py summary DATA_DIR
  corpus.py compare OLD_DIR NEW_DIR             images whose split changed (must be none)
  corpus.py add DATA_DIR PART_DIR              add PART_DIR's new validation images to DATA_DIR
  corpus.py relabel DATA_DIR SHEETS_DIR          tags and split from the current rules (no decoding)
  corpus.py sheets DATA_DIR SHEETS_DIR          redraw the contact sheets
  corpus.py selftest                           check the measurements on synthetic images

Needs Debian's python3-pil and python3-numpy (the fetch script installs them).
"""
import fnmatch
import hashlib
import io
import os
import re
import struct
import subprocess
import sys
import tarfile
import zipfile
import zlib
from concurrent.futures import ProcessPoolExecutor

# The manifest's columns, in order (file first: the fetch script's rerun check reads it).
COLUMNS = ("file package version suite licence credit category tag width height bytes split sha256 "
           "source src_width src_height factor noise noise_floor blockiness").split()
# Reject a prepared image whose noise floor (0-255 scale) is higher: the estimate of
# noise_sigma() in the 10% smoothest 32x32 blocks.  The whole-image estimate (as `wprior
# denoise` prints it, column noise) also counts fine detail as noise: foliage and rock
# read 2-5 when clean; the floor reads the grain of the flat parts.
NOISE_MAX = 1.5
# Material textures are fine structure everywhere, so there the estimate reads the material's
# own grain (grass, straw, gravel read 10-20 at 2x); only the grainiest are rejected.
NOISE_MAX_TEXTURE = 10.0
BLOCKY_MAX = 1.05       # JPEG block-edge ratio after downscaling by 2 above which the factor is 4
MIN_SIDE = 512          # shorter side of a source image before downscaling
DHASH_DIST = 6          # dHash Hamming distance at or below which two images are the same picture
VAL_MOD = 10            # split rule: sha1(package/source) mod VAL_MOD == 0 -> val
# Content tags the validation split must cover (one image of each at least).
VAL_TAGS = ("text", "fabric", "foliage", "fur", "faces", "architecture", "night", "stone", "wood",
            "metal", "ground", "water", "landscape", "city", "underwater", "flowers", "food", "paper")

# ---------------------------------------------------------------------------------------------
# Sources.  kind: scene (photos/) or texture (textures/).  take: fnmatch patterns on the path
# inside the package (without the leading ./); for containers (rcc, zip, pk3) "CONTAINER::INNER"
# patterns.  factor: the smallest box-downscaling factor (2 for JPEG photographs, 4 for
# DXT-compressed or smoothed game textures; 1 only for small lossless patterns and for photographs
# that upstream already downscaled, whose print would not survive another factor of 2); factors:
# (regex on the source path, factor) rules that override it per file, the first match wins.
# licence: used when the package's copyright file is not machine-readable (checked by hand).
# tags: (regex on the source path, tag) - the first match wins.
LAND_TAGS = [(r"nasa[457]@|army0@", "night"), (r"city|loc\d|industrial|station", "city"), (r"forest|fields|valley", "foliage"),
             (r"sea|beach|water", "water"), (r"snow|mountain|hills|canyon|badlands|desert|dune|lava", "landscape"),
             (r"sky|fog|space|earthrise|nasa", "sky"), (r".", "landscape")]
GCOMPRIS_TAGS = [(r"/clickgame/", "underwater"), (r"narwhal|dolphin|penguin|crab", "water"),
                 (r"explore_world_music", "faces"), (r"_animals/|/erase/", "fur"),
                 (r"explore_monuments", "architecture")]

# Material textures of games: tags from the file names.
TEXTURE_TAGS = [(r"sign|poster|label|\btext\b|graffiti|newspaper|book", "text"),
                (r"carpet|fabric|cloth|curtain|sofa|textile|rug|canvas|towel", "fabric"),
                (r"grass|leaf|leaves|hedge|bush|(?<!s)tree(?!_?[Bb]ark)|foliage|ivy|moss|plant|flower", "foliage"),
                (r"bark|wood|plank|crate|parquet|timber|log|board|fence", "wood"),
                (r"metal|rust|steel|iron|container|grate|plate|pipe|alu|chrome|tin", "metal"),
                (r"brick|stone|rock|concrete|cobble|marble|granite|wall|cliff|pebble|tile|asphalt|road|pave",
                 "stone"),
                (r"dirt|sand|mud|gravel|ground|soil|snow|earth|desert|terrain|field", "ground"),
                (r"water|sea|ocean|lake", "water"), (r".", "texture")]
TEXTURE_SKIP = r"_(nm|sm|gm|hm|n|s|h|g|glow|norm|normal|spec|gloss|height|bump|mask|alpha|ao|local)\.[a-z]+$"

SOURCES = [
    dict(pkg="endless-sky-high-dpi", suite="bookworm", kind="scene", factor=2,
         take=["usr/share/games/endless-sky/plugins/endless-sky-high-dpi/images/land/*.jpg",
               "usr/share/games/endless-sky/plugins/endless-sky-high-dpi/images/scene/*.jpg"],
         skip=r"/(eso0|tempest|geoscan|nasa8|nasa9|lobby)@",  # renders, a micrograph, processed Jupiter
         tags=LAND_TAGS),
    dict(pkg="gcompris-qt-data", suite="bookworm", kind="scene", factor=2,
         take=["usr/share/gcompris-qt/rcc/*.rcc::" + p for p in (
             "*/clickgame/resource/sea?.webp", "*/erase/resource/*.webp",
             "*/explore_farm_animals/resource/animals/*.webp",
             "*/explore_world_animals/resource/animals/*.webp",
             "*/explore_monuments/resource/*/*.webp", "*/explore_world_music/resource/music/*.webp")],
         allow="gcompris-qt-data", tags=GCOMPRIS_TAGS),
    dict(pkg="lomiri-wallpapers-16.04", suite="bookworm", kind="scene", factor=2,
         take=["usr/share/backgrounds/%s.jpg" % f for f in (
             "seeding_by_Clements_Engelhardt Dragonfly_by_Bolly sunset_by_Aitzol_Berasategi "
             "Bridge_by_Sander_Klootwijk Wine_by_Jakkub_Mede picosdeeuropa_by_Aitzol_Berasategi "
             "aitzgorri_by_Aitzol_Berasategi friends_by_Aitzol_Berasategi life_by_Aitzol_Berasategi "
             "greentock_by_Peter_Nerlich free_by_Peter_Nerlich Picture_0B_by_freespace "
             "Picture_1A_by_freespace").split()],
         tags=[(r"friends", "faces"), (r"Wine", "food"), (r"Dragonfly|seeding|greentock", "foliage"),
               (r"Bridge", "architecture"), (r".", "landscape")]),
    dict(pkg="lomiri-wallpapers-20.04", suite="bookworm", kind="scene", factor=2,
         take=["usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg",
               "usr/share/backgrounds/Infinite-Sea_by_Aury88.jpg"], tags=[(r".", "water")]),
    dict(pkg="lxqt-themes", suite="bookworm", kind="scene", factor=2,
         take=["usr/share/lxqt/wallpapers/" + f for f in (
             "butterfly.png", "flowers.png", "after-the-rain.jpg", "appleflower.png", "beam.png", "fog.jpg",
             "cloud.png", "this-is-not-windows.jpg", "drop.png", "Butterfly-Kenneth-Wimer.jpg", "Valendas.png")],
         licence_note="the wallpapers' own COPYING says CC-BY-SA-3.0",
         tags=[(r"flower|butterfly|Butterfly", "flowers"), (r"Valendas", "architecture"), (r".", "landscape")]),
    dict(pkg="mate-backgrounds", suite="bookworm", kind="scene", factor=2,
         take=["usr/share/backgrounds/mate/nature/" + f for f in (
             "Wood.jpg", "Garden.jpg", "Aqua.jpg", "TwoWings.jpg", "LadyBird.jpg", "YellowFlower.jpg",
             "Storm.jpg", "RainDrops.jpg", "Blinds.jpg", "FreshFlower.jpg", "GreenMeadow.jpg")],
         tags=[(r"Wood", "wood"), (r"Flower|Garden|LadyBird|TwoWings", "flowers"), (r"Blinds", "fabric"),
               (r"Aqua|RainDrops", "water"), (r".", "landscape")]),
    dict(pkg="plasma-workspace-wallpapers", suite="trixie", kind="scene", factor=2,
         take=["usr/share/wallpapers/%s/contents/images/2560x1600.jpg" % w for w in (
             "BytheWater", "ColdRipple", "ColorfulCups", "DarkestHour", "EveningGlow", "FallenLeaf", "Grey",
             "Kite", "OneStandsOut", "Path", "summer_1am")]
         + ["usr/share/wallpapers/Mountain/contents/images/5120x2880.png"],
         tags=[(r"DarkestHour|summer_1am", "night"), (r"ColorfulCups", "food"), (r"FallenLeaf|Path", "foliage"),
               (r".", "landscape")]),
    dict(pkg="kphotoalbum", suite="bookworm", kind="scene", factor=2, licence="GPL-2+",
         take=["usr/share/kphotoalbum/demo/" + f + ".jpg" for f in (
             "donna_2 snow pool_2 bar55_2 wayne grand_canyon_3 bar55 skagen_2 pool grand_canyon_2 spiff "
             "spiff_2 blackie new_wave_2 new_wave_1 grand_canyon_1 skagen jesper cold_water jesper_2 donna"
         ).split()],
         tags=[(r"donna|wayne|jesper|bar55|new_wave|pool", "faces"), (r"spiff|blackie", "fur"),
               (r".", "landscape")]),
    dict(pkg="gnome-control-center-data", suite="bookworm", kind="scene", factor=2,
         take=["usr/share/pixmaps/faces/" + f + ".jpg" for f in (
             "mountain surfer tree calculator bicycle hummingbird cat headphones guitar2 coffee2 plane "
             "tomatoes gamepad flower2 book").split()],
         tags=[(r"cat", "fur"), (r"tomatoes|coffee", "food"), (r"tree|flower", "foliage"),
               (r"book|calculator", "text"), (r".", "objects")]),
    dict(pkg="palapeli-data", suite="bookworm", kind="scene", factor=2,
         take=["usr/share/palapeli/collection/" + f + ".jpg" for f in (
             "european-honey-bee", "panther-chameleon-female", "cincinnati-bridge", "citrus-fruits",
             "castle-maintenon")],
         tags=[(r"bridge|castle", "architecture"), (r"citrus", "food"), (r".", "flowers")]),
    dict(pkg="budgie-backgrounds", suite="trixie", kind="scene", factor=2,
         take=["usr/share/backgrounds/budgie/%s.jpg" % f for f in (
             "saturnian-profile casa-mila extreme-desert-hike blue-periwinkle tea-gardens piazza-gae-aulenti "
             "high-trestle-trail abstract-spiral perched-osprey singaporean-cityscape roman-colosseum "
             "oakland-zoo-otters canyon-wren lake-sherburne beacon-street-sunset").split()],
         tags=[(r"casa-mila|piazza|colosseum|spiral|cityscape", "architecture"), (r"otters", "fur"),
               (r"beacon-street", "city"), (r"periwinkle|tea-gardens", "foliage"), (r".", "landscape")]),
    dict(pkg="wordpress-theme-twentytwentyfive", suite="trixie", kind="scene", factor=2,
         take=["usr/share/wordpress/wp-content/themes/twentytwentyfive/assets/images/%s.webp" % f for f in (
             "coming-soon-bg-image northern-buttercups-flowers link-in-bio-background poster-image-background "
             "botany-flowers 404-image grid-flower-1 typewriter grid-flower-2 link-in-bio-image agenda-img-4 "
             "hero-podcast man-in-hat woman-splashing-water nurse parthenon-square dallas-creek-square "
             "vash-gon-square coral-square marshland-birds-square delphinium-flowers star-thristle-flower "
             "campanula-alliariifolia-flower").split()],
         licence_note="the theme's readme.txt lists each image as CC0",
         tags=[(r"typewriter", "text"), (r"man-in-hat|woman|nurse|hero-podcast|link-in-bio-image", "faces"),
               (r"parthenon", "architecture"), (r"coral", "underwater"), (r"flower|botany|buttercups", "flowers"),
               (r".", "landscape")]),
    dict(pkg="wordpress-theme-twentytwentyfour", suite="trixie", kind="scene", factor=2,
         take=["usr/share/wordpress/wp-content/themes/twentytwentyfour/assets/images/%s.webp" % f for f in (
             "angular-roof museum green-staircase hotel-facade art-gallery building-exterior "
             "tourist-and-building abstract-geometric-art windows").split()],
         licence_note="the theme's readme.txt lists each image as CC0",
         tags=[(r".", "architecture")]),
    dict(pkg="tuxpaint-data", suite="bookworm", kind="scene", factor=2,
         take=["usr/share/tuxpaint/templates/*.jpg"],
         tags=[(r"bark|log", "wood"), (r"cliff|rocks|mudstone", "stone"), (r"jellyfish", "underwater"),
               (r"ocean", "water"), (r"sheep", "fur"), (r"lighthouse", "architecture"), (r"dusk", "night"),
               (r"trees|leaves|corn|redwoods", "foliage"), (r".", "landscape")]),
    # Validation images of small print (VAL_EXTRA), kept at full size: single-board computers'
    # silkscreen and chip markings in the FreedomBox manual's product photographs (640 px wide,
    # already downscaled: noise floor 0.0-0.8 and JPEG blockiness 1.00-1.02 at full size; the
    # 2012 px Banana Pro is downscaled by 2 like any photograph), and a dessert menu behind a
    # plate (GNOME Recipes' 1024 px banner; noise floor 0.55 at full size).  Debian's DEP-5 paths
    # are the manual's source tree (doc/manual/).
    dict(pkg="freedombox-doc-en", suite="bookworm", kind="scene", factor=1, factors=[(r"banana-pro", 2)],
         dep5=("usr/share/freedombox/manual/", "doc/manual/"),
         take=["usr/share/freedombox/manual/en/images/%s.jpg" % f for f in ("banana-pro", "raspberrypi2", "cubieboard2")],
         tags=[(r".", "text")]),
    dict(pkg="gnome-recipes-data", suite="trixie", kind="scene", factor=1,
         take=["usr/share/gnome-recipes/images/big-american.png"], tags=[(r".", "text")]),
    dict(pkg="ufoai-textures", suite="bookworm", kind="texture", factor=2,
         take=["usr/share/games/ufoai/base/0textures.pk3::textures/tex_%s/*.%s" % (d, e)
               for d in ("buildings", "buildings_snow", "base", "ctp1", "dirt", "doors", "furniture", "material",
                         "mattn", "misc", "nature", "shop", "streets", "terrain") for e in ("jpg", "png")],
         # synthetic: signs, painted stripes and markings, flat colour fills (seen on the contact sheet)
         skip=TEXTURE_SKIP + r"|/art\d|/art_|sign|yellow|helipad|lab_floor002|tex_base/wall00[23]|stripe|street01[01]\.|street11\."
              r"|tex_ctp1/concrete_(b_[12]|r_[14]|y_1)\.", tags=TEXTURE_TAGS),
    dict(pkg="torcs-data", suite="bookworm", kind="texture", factor=2,
         take=["usr/share/games/torcs/data/textures/*.png", "usr/share/games/torcs/tracks/*/*/*.png"], name_parts=2,
         tag_on_name=True,
         skip=TEXTURE_SKIP + r"|shadow|/(?P<trk>[^/]+)/(?P=trk)\.png$|outline|logo|INFO|64PASS|/tree"
              r"|sign|PDKKA02|corkscrew/water|tire-?wall|curb-|raceline",  # banners, lettering, painted kerbs
         tags=[(r"background", "landscape")] + TEXTURE_TAGS),
    dict(pkg="flightgear-data-base", suite="trixie", kind="texture", factor=2,
         take=["usr/share/games/flightgear/Textures/Terrain/*.png",
               "usr/share/games/flightgear/Textures/Sky/*.png"],
         skip=TEXTURE_SKIP + r"|mask|relief|overlay|colors|structure|noise|detail|lights|rwy|runway|water|ocean",
         tags=[(r"city|town|industr|suburb|slum|port|airport|carpark|commercial", "city"),
               (r"forest|grass|crop|pasture|marsh|tundra|shrub|scrub|heath|bush|evergreen|deciduous|golf|cemetery"
                r"|green", "foliage"),
               (r"rock|cliff|gravel|lava|glacier", "stone"), (r"sand|dune|desert|dirt", "ground"),
               (r"Sky/", "sky"), (r".", "aerial")]),
    dict(pkg="supertuxkart-data", suite="bookworm", kind="texture", factor=2, allow="supertuxkart-data",
         take=["usr/share/games/supertuxkart/data/%s/*.%s" % (d, e) for d in ("textures", "tracks/*")
               for e in ("jpg", "png")], name_parts=2, tag_on_name=True, tags=TEXTURE_TAGS),
    dict(pkg="redeclipse-data", suite="bookworm", kind="texture", factor=2, allow="redeclipse-data",
         take=["usr/share/games/redeclipse/data/jojo/*.png", "usr/share/games/redeclipse/data/trak/trak4/*.jpg"],
         name_parts=2, tags=[(r"carpet", "fabric"), (r"rust", "metal"), (r"plaster|tile", "stone")] + TEXTURE_TAGS),
    dict(pkg="cube2-data", suite="bookworm", kind="texture", factor=2, allow="cube2-data",
         take=["usr/share/games/cube2/packages/*.jpg", "usr/share/games/cube2/packages/*.png"],
         tags=[(r"plaster|castell_wall|formation|Rock|rock", "stone"), (r"bark|planks", "wood"),
               (r"dirt|ground_m", "ground"), (r"grass", "foliage"), (r"cr_env", "stone")] + TEXTURE_TAGS),
    # Debian's DEP-5 paths are those of the source tree: Data/ there is usr/share/games/lugaru/ here
    dict(pkg="lugaru-data", suite="bookworm", kind="texture", factor=2, allow="lugaru-data",
         dep5=("usr/share/games/lugaru/", "Data/"), take=["usr/share/games/lugaru/Textures/*.jpg"],
         tags=[(r"Snow", "ground"), (r"Sand|Desert", "ground"), (r"Grass", "foliage"), (r"Rock|Boulder", "stone")]),
    # The small lossless patterns of GIMP, MyPaint and Krita: kept at full size and whatever their noise
    # estimate (their fine grain is the material itself: scanned paper, canvas, stone, wood).
    dict(pkg="mypaint-data-extras", suite="bookworm", kind="texture", factor=1, noise_max=None,
         take=["usr/share/mypaint/backgrounds/*.png", "usr/share/mypaint/backgrounds/*/*.png"],
         tags=[(r"Canvas", "fabric"), (r"Cork", "wood"), (r".", "paper")]),
    dict(pkg="krita-data", suite="bookworm", kind="texture", factor=1, noise_max=None, allow="krita-data",
         take=["usr/share/krita/patterns/*.png"],
         tags=[(r"canvas", "fabric"), (r"paper|grain", "paper"), (r"rock", "stone"), (r"wood|bark", "wood"),
               (r"vegetal", "foliage"), (r"crackle|Sand", "ground"), (r".", "texture")]),
    dict(pkg="gimp-data", suite="bookworm", kind="texture", factor=1, noise_max=None,
         take=["usr/share/gimp/2.0/patterns/*.pat", "usr/share/gimp/2.0/patterns/*/*.pat"],
         tags=[(r"Stone|Rock|marble|granite|slate|brick", "stone"), (r"Wood|wood|pine", "wood"),
               (r"Paper|paper|Legacy", "paper"), (r"Fabric|cloth|burlap|Texture", "fabric"), (r".", "texture")]),
]
SOURCE = {s["pkg"]: s for s in SOURCES}

# Explicit additions to the validation split where the rule alone would miss a kind of content.
VAL_EXTRA = {
    "photos/gcompris-qt-data/explore_monuments/india/hawaMahal.png",
    "photos/kphotoalbum/donna.png",
    # picked for their tags (flowers, food) by the first full build; listed so that a fresh build
    # splits exactly as the corpus the first photo priors trained on
    "photos/lxqt-themes/butterfly.png",
    "photos/plasma-workspace-wallpapers/ColorfulCups.png",
    # small print, which the first corpus's validation split lacked (its 3 text images are trained on)
    "photos/freedombox-doc-en/banana-pro.png",
    "photos/freedombox-doc-en/raspberrypi2.png",
    "photos/freedombox-doc-en/cubieboard2.png",
    "photos/gnome-recipes-data/big-american.png",
}
# Tags set by hand where the path says nothing (seen on the contact sheets).
TAG_OVERRIDE = {}


# ---------------------------------------------------------------------------------------------
def die(msg):
    print("corpus: error: " + msg, file=sys.stderr)
    sys.exit(1)


def note(msg):
    print("corpus: " + msg, flush=True)


def allowlist(name):
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus-allow", name + ".txt")
    with open(path, encoding="utf-8") as f:
        return {l.strip() for l in f if l.strip() and not l.startswith("#")}


# --- DEP-5 copyright ------------------------------------------------------------------------
def parse_copyright(text):
    """[(globs, copyright, licence)] of the Files: stanzas, and the first License: field."""
    stanzas, first = [], None
    for para in re.split(r"\n\s*\n", text):
        fields, key = {}, None
        for line in para.splitlines():
            m = re.match(r"^([A-Za-z-]+):\s*(.*)$", line)
            if m:
                key = m.group(1).lower()
                fields[key] = m.group(2).strip()
            elif key and line[:1] in (" ", "\t"):
                fields[key] += "\n" + line.strip()
        if "license" in fields:
            lic = fields["license"].split("\n")[0].strip()
            first = first or lic
            if "files" in fields:
                cr = " ".join(fields.get("copyright", "").split())
                stanzas.append((fields["files"].split(), cr, lic))
    return stanzas, first


def licence_for(path, stanzas, fallback):
    """The last Files: stanza whose pattern matches the end of PATH wins (DEP-5 rule)."""
    lic, cr = fallback, ""
    for globs, c, l in stanzas:
        for g in globs:
            if fnmatch.fnmatchcase("/" + path, "*/" + g):
                lic, cr = l, c
                break
    return lic, cr


# --- containers -------------------------------------------------------------------------------
def rcc_files(buf):
    """(path, bytes) of every file in a Qt resource bundle (.rcc, format 1-3; zlib entries)."""
    if buf[:4] != b"qres":
        raise ValueError("not a Qt resource file")
    ver, tree, data, names = struct.unpack(">4I", buf[4:20])
    nsz = 14 if ver == 1 else 22
    out = []

    def name(off):
        n, = struct.unpack(">H", buf[names + off:names + off + 2])
        return buf[names + off + 6:names + off + 6 + 2 * n].decode("utf-16-be")

    def walk(i, prefix):
        p = tree + i * nsz
        noff, flags = struct.unpack(">IH", buf[p:p + 6])
        path = prefix + "/" + name(noff) if i else ""
        if flags & 2:
            cnt, first = struct.unpack(">II", buf[p + 6:p + 14])
            for c in range(first, first + cnt):
                walk(c, path)
            return
        doff, = struct.unpack(">I", buf[p + 10:p + 14])
        q = data + doff
        size, = struct.unpack(">I", buf[q:q + 4])
        blob = buf[q + 4:q + 4 + size]
        if flags & 1:
            blob = zlib.decompress(blob[4:])
        elif flags & 4:
            return  # zstd (Qt 6): not used by the packages we read
        out.append((path.lstrip("/"), blob))

    walk(0, "")
    return out


def unpack(deb, root, patterns):
    """Extract from DEB the members matching PATTERNS (and the copyright files) into ROOT."""
    os.makedirs(root, exist_ok=True)
    outer = sorted({p.split("::")[0] for p in patterns})
    wild = ["./" + p for p in outer] + ["./usr/share/doc/*/copyright"]
    dpkg = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE)
    tar = subprocess.run(["tar", "-x", "-C", root, "--wildcards", "--ignore-failed-read"] + wild,
                         stdin=dpkg.stdout, stderr=subprocess.PIPE)
    dpkg.stdout.close()
    dpkg.wait()
    # tar complains about patterns that matched nothing; that is allowed (reported as counts).
    if dpkg.returncode != 0:
        die("dpkg-deb failed on " + deb)


def candidates(root, src):
    """Yield (source path, loader) for the files of SRC found under ROOT, sorted by path."""
    found = []
    for pat in src["take"]:
        outer, _, inner = pat.partition("::")
        for dirpath, _, files in os.walk(root):
            for f in files:
                full = os.path.join(dirpath, f)
                rel = os.path.relpath(full, root)
                if not fnmatch.fnmatchcase(rel, outer):
                    continue
                if not inner:
                    found.append((rel, ("file", full, None)))
                elif rel.endswith(".rcc"):
                    for p, blob in rcc_files(open(full, "rb").read()):
                        if fnmatch.fnmatchcase(p, inner):
                            found.append((rel + "::" + p, ("bytes", None, blob)))
                else:
                    with zipfile.ZipFile(full) as z:
                        for p in z.namelist():
                            if fnmatch.fnmatchcase(p, inner):
                                found.append((rel + "::" + p, ("zip", full, p)))
    allow = allowlist(src["allow"]) if src.get("allow") else None
    seen = set()
    for rel, how in sorted(found):
        if rel in seen or (allow is not None and rel.split("::")[-1] not in allow):
            continue
        seen.add(rel)
        yield rel, how


# --- image measurements -----------------------------------------------------------------------
def load(how):
    from PIL import Image
    kind, path, extra = how
    if kind == "file":
        if path.endswith(".pat"):
            return gimp_pat(open(path, "rb").read())
        return Image.open(path)
    if kind == "bytes":
        return Image.open(io.BytesIO(extra))
    with zipfile.ZipFile(path) as z:
        return Image.open(io.BytesIO(z.read(extra)))


def gimp_pat(raw):
    """GIMP .pat: big-endian u32 header size, version 1, width, height, bpp, "GPAT", name, pixels."""
    from PIL import Image
    hsize, version, w, h, bpp = struct.unpack(">5I", raw[:20])
    if raw[20:24] != b"GPAT" or version != 1 or bpp not in (1, 2, 3, 4):
        raise ValueError("not a version 1 GPAT file")
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[bpp]
    return Image.frombytes(mode, (w, h), raw[hsize:hsize + w * h * bpp])


def dhash(gray):
    """64-bit difference hash of a PIL L image (9x8 box-resized, left < right)."""
    import numpy as np
    from PIL import Image
    a = np.asarray(gray.resize((9, 8), Image.BOX), dtype=np.int16)
    bits = (a[:, 1:] > a[:, :-1]).flatten()
    return int("".join("1" if b else "0" for b in bits), 2)


def haar_hh(x):
    """|finest diagonal Haar band| per 2x2 block, scaled so that it carries sigma: |a-b-c+d|/2."""
    h, w = x.shape[0] // 2 * 2, x.shape[1] // 2 * 2
    x = x[:h, :w]
    return abs(x[0::2, 0::2] - x[0::2, 1::2] - x[1::2, 0::2] + x[1::2, 1::2]) / 2


def noise_sigma(x):
    """wp_estimate_noise: per channel median(|HH|)/0.6745, averaged over channels (0-255)."""
    import numpy as np
    d = haar_hh(x)
    return float(np.mean([np.median(d[..., c]) for c in range(d.shape[2])]) / 0.6745)


def noise_floor(x, block=16, pct=10):
    """noise_sigma's estimate in BLOCKxBLOCK blocks of HH coefficients (2*BLOCK pixels), per
    channel: the PCT percentile over the blocks, averaged over channels.  Divided by 0.903, the
    ratio that percentile has to sigma for Gaussian noise (measured on 1024x1024 samples)."""
    import numpy as np
    d = haar_hh(x)
    while block > 1 and min(d.shape[:2]) < 4 * block:  # small patterns: smaller blocks
        block //= 2
    h, w = d.shape[0] // block * block, d.shape[1] // block * block
    out = []
    for c in range(d.shape[2]):
        b = d[:h, :w, c].reshape(h // block, block, w // block, block).transpose(0, 2, 1, 3)
        out.append(np.percentile(np.median(b.reshape(-1, block * block), axis=1), pct))
    return float(np.mean(out) / 0.6745 / 0.903)


def blockiness(g, period):
    """Mean |horizontal and vertical step| across PERIOD-pixel block edges over the mean elsewhere."""
    import numpy as np
    g = g.astype(np.float32)
    dx = np.abs(np.diff(g, axis=1)).mean(axis=0)
    dy = np.abs(np.diff(g, axis=0)).mean(axis=1)
    r = []
    for d in (dx, dy):
        edge = d[period - 1::period]
        mask = np.ones(d.shape, bool)
        mask[period - 1::period] = False
        r.append(edge.mean() / max(d[mask].mean(), 1e-3))
    return float(np.mean(r))


def factor_of(src, rel):
    """SRC's smallest downscaling factor for the file REL: its first matching `factors` rule, else `factor`."""
    return next((f for rx, f in src.get("factors", []) if re.search(rx, rel)), src["factor"])


def process(job):
    """Measure, clean and write one image.  Returns a dict (with 'reject' set when rejected)."""
    try:
        return process_one(job)
    except Exception as e:  # report it with the file, and go on with the others
        return dict(source=job[1], reject="error: %s: %s" % (type(e).__name__, e))


def process_one(job):
    import numpy as np
    from PIL import Image
    src, rel, how, out_png = job
    r = dict(source=rel)
    try:
        im = load(how)
        fmt = (im.format or "").upper()
        r["src_width"], r["src_height"] = im.size
        factor = factor_of(src, rel)
        if min(im.size) < (MIN_SIDE if factor > 1 else 16):
            r["reject"] = "small"  # known from the header: no need to decode
            return r
        im.load()
    except Exception as e:  # a damaged or unknown file: report and go on
        r["reject"] = "decode: %s" % e
        return r
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        alpha = np.asarray(im.convert("RGBA"))[..., 3]
        if (alpha < 250).mean() > 0.01:
            r["reject"] = "transparent"
            return r
    im = im.convert("RGB")
    a = np.asarray(im)
    mean = a.reshape(-1, 3).mean(axis=0)
    if src["kind"] == "texture" and mean[2] > 170 and abs(mean[0] - 128) < 40 and abs(mean[1] - 128) < 40:
        r["reject"] = "normal map"
        return r
    if a.std() < 4:
        r["reject"] = "flat"
        return r
    r["dhash"] = dhash(im.convert("L"))
    if fmt == "DDS":
        factor = max(factor, 4)  # DXT's 4x4 blocks average into single pixels

    def box(f):
        """Box average of the 8-bit (gamma-coded sRGB) values, before rounding to 8 bits."""
        h, w = a.shape[0] // f * f, a.shape[1] // f * f
        return a[:h, :w].astype(np.float32).reshape(h // f, f, w // f, f, 3).mean(axis=(1, 3))

    x = box(factor)
    block = 0.0
    if fmt == "JPEG" and factor in (1, 2):
        # JPEG's 8x8 block edges, measured where they fall after downscaling
        block = blockiness(x.mean(axis=2), 8 // factor)
        if block > BLOCKY_MAX:
            factor = 4
            x = box(factor)
            block = blockiness(x.mean(axis=2), 2)
    r["blockiness"] = block
    if factor > 1:
        im = im.crop((0, 0, x.shape[1] * factor, x.shape[0] * factor)).reduce(factor)
    r["factor"] = factor
    r["noise"] = noise_sigma(x)
    r["noise_floor"] = noise_floor(x)
    limit = src.get("noise_max", NOISE_MAX if src["kind"] == "scene" else NOISE_MAX_TEXTURE)
    if limit is not None and r["noise_floor"] > limit:
        r["reject"] = "noise floor %.2f" % r["noise_floor"]
        return r
    r["width"], r["height"] = im.size
    os.makedirs(os.path.dirname(out_png), exist_ok=True)
    tmp = out_png + ".tmp"
    im.save(tmp, "PNG", compress_level=6)
    os.replace(tmp, out_png)
    r["bytes"] = os.path.getsize(out_png)
    with open(out_png, "rb") as f:
        r["sha256"] = hashlib.sha256(f.read()).hexdigest()
    return r


# --- naming, tags, split ----------------------------------------------------------------------
def out_name(src, rel):
    """photos|textures/PKG/NAME.png, NAME from the path below the common folder of the patterns."""
    inner = rel.split("::")[-1]
    if src["pkg"] == "gcompris-qt-data":
        inner = re.sub(r"^.*/activities/([^/]+)/resource/(?:animals/|music/)?", r"\1/", inner)
    elif src["pkg"] == "plasma-workspace-wallpapers":
        inner = inner.split("/")[3]
    elif src["pkg"] == "gimp-data":
        inner = "_".join(inner.split("/")[5:])
    elif "::" in rel:
        inner = "_".join(inner.split("/")[1:])  # the folders inside a zip: textures/tex_x/y -> tex_x_y
    else:  # the file name, with as many folders above it as the source asks for
        inner = "_".join(inner.split("/")[-src.get("name_parts", 1):])
    inner = re.sub(r"@2x(?=\.)", "", inner)
    inner = re.sub(r"\.[A-Za-z0-9]+$", "", inner).replace(" ", "_")
    folder = "photos" if src["kind"] == "scene" else "textures"
    return "%s/%s/%s.png" % (folder, src["pkg"], inner)


def tag_of(src, rel, name):
    """The first of SRC's tags whose regex matches REL (only its file name where the folders name
    something else, as TORCS's and SuperTuxKart's tracks do: dirt-2/house12.png is a wall)."""
    if name in TAG_OVERRIDE:
        return TAG_OVERRIDE[name]
    what = rel.rsplit("/", 1)[-1] if src.get("tag_on_name") else rel
    for rx, tag in src.get("tags", []):
        if re.search(rx, what):
            return tag
    return "scene" if src["kind"] == "scene" else "texture"


def split_of(pkg, rel):
    return "val" if int(hashlib.sha1(("%s/%s" % (pkg, rel)).encode()).hexdigest(), 16) % VAL_MOD == 0 \
        else "train"


def dedup(rows, previous=()):
    """Drop near-duplicates (dHash within DHASH_DIST): keep an image of the previous corpus first
    (so that a new twin never replaces one the training has seen), then the most pixels, then the
    first source."""
    order = sorted(range(len(rows)), key=lambda i: (rows[i]["file"] not in previous,
                                                   -rows[i]["src_width"] * rows[i]["src_height"],
                                                   rows[i]["order"], rows[i]["file"]))
    kept, dropped = [], []
    for i in order:
        h = rows[i]["dhash"]
        twin = next((k for k in kept if bin(h ^ rows[k]["dhash"]).count("1") <= DHASH_DIST), None)
        if twin is None:
            kept.append(i)
        else:
            dropped.append((rows[i], rows[twin]))
    return [rows[i] for i in sorted(kept)], dropped


def assign_split(rows, previous=None):
    """Split each image by a rule of its own (VAL_EXTRA, else the hash of package/source), except
    that an image of the previous corpus (PREVIOUS: {file: split}) keeps its split: a training run
    that saw train.txt must never find one of those images in val.txt.  Then each content tag
    without a validation image gets one, its new image (not in PREVIOUS) with the smallest hash;
    returns the tags left without one (all their images are in the previous corpus's training
    split)."""
    previous = previous or {}
    for r in rows:
        r["split"] = previous.get(r["file"]) or ("val" if r["file"] in VAL_EXTRA else split_of(r["package"], r["source"]))
    uncovered = []
    for tag in VAL_TAGS:
        tagged = [r for r in rows if r["tag"] == tag]
        if tagged and not any(r["split"] == "val" for r in tagged):
            new = [r for r in tagged if r["file"] not in previous]
            if not new:
                uncovered.append(tag)
                continue
            min(new, key=lambda r: hashlib.sha1(r["file"].encode()).hexdigest())["split"] = "val"
    return uncovered


def previous_split(path):
    """{file: split} of the corpus whose manifest is PATH (or PATH/manifest.tsv); {} when none."""
    if path and os.path.isdir(path):
        path = os.path.join(path, "manifest.tsv")
    if not path or not os.path.exists(path):
        return {}
    _, rows = read_manifest(os.path.dirname(path), os.path.basename(path))
    return {r["file"]: r["split"] for r in rows}


# --- contact sheets ---------------------------------------------------------------------------
def contact_sheet(rows, data_dir, path, title):
    from PIL import Image, ImageDraw
    cell, cols = (128, 12) if len(rows) <= 200 else (96, 16)  # a few hundred KB at most
    rows = sorted(rows, key=lambda r: r["file"])
    n = len(rows)
    lines = (n + cols - 1) // cols
    sheet = Image.new("RGB", (cols * cell, lines * cell + 20), (40, 40, 40))
    ImageDraw.Draw(sheet).text((4, 4), "%s: %d images (red frame: validation)" % (title, n), fill=(255, 255, 255))
    for i, r in enumerate(rows):
        with Image.open(os.path.join(data_dir, r["file"])) as im:
            im.draft("RGB", (cell, cell))
            im = im.convert("RGB")
            im.thumbnail((cell - 4, cell - 4), Image.BOX)
        x, y = (i % cols) * cell, 20 + (i // cols) * cell
        if r["split"] == "val":
            ImageDraw.Draw(sheet).rectangle((x, y, x + cell - 1, y + cell - 1), outline=(220, 30, 30), width=2)
        sheet.paste(im, (x + (cell - im.size[0]) // 2, y + (cell - im.size[1]) // 2))
    tmp = path + ".tmp.jpg"
    sheet.save(tmp, "JPEG", quality=70, optimize=True)
    os.replace(tmp, path)


# --- commands ---------------------------------------------------------------------------------
def selected(pkgs):
    if not pkgs:
        return SOURCES
    unknown = [p for p in pkgs if p not in SOURCE]
    if unknown:
        die("unknown package(s): " + " ".join(unknown))
    return [s for s in SOURCES if s["pkg"] in pkgs]


def cmd_packages(pkgs):
    for s in selected(pkgs):
        print(s["pkg"], s["suite"])


def deb_of(debs, pkg, suite):
    d = os.path.join(debs, suite)
    names = [f for f in os.listdir(d) if f.startswith(pkg + "_") and f.endswith(".deb")] if os.path.isdir(d) else []
    return os.path.join(d, sorted(names)[-1]) if names else None


def cmd_prepare(debs, out_dir, work, sheets, pkgs):
    import numpy as np  # noqa: F401  (fail early when python3-numpy is missing)
    from PIL import Image  # noqa: F401
    jobs, meta, missing, futures, names, rejects = [], {}, [], [], set(), []
    threads = int(os.environ.get("WPRIOR_CORPUS_JOBS", "2"))
    ex = ProcessPoolExecutor(max_workers=threads)
    for order, src in enumerate(selected(pkgs)):
        deb = deb_of(debs, src["pkg"], src["suite"])
        if not deb:
            missing.append(src["pkg"])
            continue
        version = subprocess.run(["dpkg-deb", "-f", deb, "Version"], capture_output=True,
                                 text=True, check=True).stdout.strip()
        root = os.path.join(work, "unpack", src["pkg"])
        unpack(deb, root, src["take"])
        cfile = os.path.join(root, "usr/share/doc", src["pkg"], "copyright")
        text = open(cfile, encoding="utf-8", errors="replace").read() if os.path.exists(cfile) else ""
        stanzas, first = parse_copyright(text)
        n = 0
        for rel, how in candidates(root, src):
            name = out_name(src, rel)
            if src.get("skip") and re.search(src["skip"], rel):
                continue
            if name in names:  # a rule that maps two files to one name: keep the first
                rejects.append((src["pkg"], rel, "same output name as another file: " + name))
                continue
            names.add(name)
            outer, _, inner = rel.partition("::")
            # DEP-5 paths of files inside a zip (.pk3) are relative to the zip's folder
            lpath = inner if outer.endswith(".rcc") else (os.path.dirname(outer) + "/" + inner if inner else outer)
            if src.get("dep5") and lpath.startswith(src["dep5"][0]):
                lpath = src["dep5"][1] + lpath[len(src["dep5"][0]):]
            lic, cr = licence_for(lpath, stanzas, src.get("licence") or first or "see-copyright")
            if len(cr) > 600:
                cr = cr[:600] + "... (see usr/share/doc/%s/copyright)" % src["pkg"]
            if src.get("licence") and not stanzas:
                lic = src["licence"]
            meta[rel, src["pkg"]] = dict(file=name, package=src["pkg"], version=version, suite=src["suite"],
                                         licence=lic + ("; " + src["licence_note"] if src.get("licence_note") else ""),
                                         credit=cr or "see usr/share/doc/%s/copyright" % src["pkg"],
                                         category=src["kind"], order=order)
            job = (src, rel, how, os.path.join(out_dir, name))
            jobs.append(job)
            futures.append(ex.submit(process, job))
            n += 1
        note("%s %s (%s): %d candidate files" % (src["pkg"], version, src["suite"], n))
    if missing:
        note("warning: no .deb for: " + " ".join(missing))
    rows = []
    for job, fut in zip(jobs, futures):
        r = fut.result()
        m = meta[job[1], job[0]["pkg"]]
        if "reject" in r:
            rejects.append((m["package"], job[1], r["reject"]))
            continue
        r.update(m)
        r["tag"] = tag_of(job[0], job[1], m["file"])
        rows.append(r)
    ex.shutdown()
    prev_from = os.environ.get("WPRIOR_CORPUS_SPLIT_FROM", "")
    previous = previous_split(prev_from)
    rows, dropped = dedup(rows, previous)
    for r, twin in dropped:
        os.remove(os.path.join(out_dir, r["file"]))
        rejects.append((r["package"], r["source"], "duplicate of " + twin["file"]))
    uncovered = assign_split(rows, previous)
    if previous:
        kept = sum(r["file"] in previous for r in rows)
        note("split: %d images of the previous corpus (%s) keep their split, %d are new (%d of them val), "
             "%d are gone" % (kept, prev_from, len(rows) - kept,
                              sum(r["split"] == "val" and r["file"] not in previous for r in rows),
                              len(set(previous) - {r["file"] for r in rows})))
    for tag in uncovered:
        note("warning: tag %s has no validation image (all its images are in the previous training split)" % tag)
    write_outputs(out_dir, rows, rejects, jobs)
    os.makedirs(sheets, exist_ok=True)
    for pkg in sorted({r["package"] for r in rows}):
        contact_sheet([r for r in rows if r["package"] == pkg], out_dir,
                      os.path.join(sheets, "corpus-%s.jpg" % pkg), pkg)
    note("%d images kept, %d rejected or duplicates (see rejects.tsv)" % (len(rows), len(rejects)))


def write_text(path, text):
    """Replace PATH by TEXT atomically (temporary file and rename), and not at all when it holds
    TEXT already: a training run reading train.txt sees the old list or the new, never a part."""
    if os.path.exists(path) and open(path, encoding="utf-8").read() == text:
        return
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def write_outputs(out_dir, rows, rejects, jobs):
    rows.sort(key=lambda r: r["file"])
    lines = ["\t".join(COLUMNS)]
    for r in rows:
        vals = []
        for c in COLUMNS:
            v = r.get(c, "")
            vals.append("%.3f" % v if isinstance(v, float) else str(v).replace("\t", " "))
        lines.append("\t".join(vals))
    write_text(os.path.join(out_dir, "manifest.tsv"), "\n".join(lines) + "\n")
    write_text(os.path.join(out_dir, "rejects.tsv"), "package\tsource\treason\n" + "".join(
        "%s\t%s\t%s\n" % (p, s, why) for p, s, why in sorted(rejects)))
    lists = {"train.txt": lambda r: r["split"] == "train", "val.txt": lambda r: r["split"] == "val"}
    for cat, prefix in (("scene", "photos"), ("texture", "textures")):
        for sp in ("train", "val"):
            lists["%s-%s.txt" % (prefix, sp)] = (lambda c, s: lambda r: r["category"] == c and r["split"] == s)(cat, sp)
    for name, keep in lists.items():
        write_text(os.path.join(out_dir, name), "".join(r["file"] + "\n" for r in rows if keep(r)))
    mp_before = sum(r["src_width"] * r["src_height"] for r in rows) / 1e6
    write_text(os.path.join(out_dir, "sources-mp.txt"), "%.1f\n" % mp_before)


def read_manifest(data_dir, name="manifest.tsv"):
    with open(os.path.join(data_dir, name), encoding="utf-8") as f:
        head = f.readline().rstrip("\n").split("\t")
        return head, [dict(zip(head, l.rstrip("\n").split("\t"))) for l in f if l.strip()]


def cmd_summary(data_dir):
    _, rows = read_manifest(data_dir)
    by = {}
    for r in rows:
        k = (r["category"], r["package"])
        b = by.setdefault(k, [0, 0, 0, 0.0, 0.0, 0])
        b[0] += 1
        b[1 if r["split"] == "train" else 2] += 1
        b[3] += int(r["src_width"]) * int(r["src_height"]) / 1e6
        b[4] += int(r["width"]) * int(r["height"]) / 1e6
        b[5] += int(r["bytes"])
    fmt = "  %-40s %6s %6s %5s %9s %8s %8s"
    print(fmt % ("category/package", "images", "train", "val", "MP-source", "MP-kept", "MiB"))
    tot = [0, 0, 0, 0.0, 0.0, 0]
    for k in sorted(by):
        b = by[k]
        print(fmt % ("%s/%s" % k, b[0], b[1], b[2], "%.1f" % b[3], "%.1f" % b[4], "%.1f" % (b[5] / 2**20)))
        tot = [t + v for t, v in zip(tot, b)]
    print(fmt % ("total (%d packages, %d scenes)" % (len({k[1] for k in by}),
                                                     sum(by[k][0] for k in by if k[0] == "scene")),
                 tot[0], tot[1], tot[2], "%.1f" % tot[3], "%.1f" % tot[4], "%.1f" % (tot[5] / 2**20)))
    print("  8-bit RGB in memory: %.2f GiB" % (tot[4] * 3e6 / 2**30))
    tags = {}
    for r in rows:
        tags.setdefault(r["tag"], [0, 0])[r["split"] == "val"] += 1
    print("  tags (train/val): " + ", ".join("%s %d/%d" % (t, v[0], v[1]) for t, v in sorted(tags.items())))


def cmd_check(data_dir):
    """Verify the manifest against the files and lists: every file present with its size and
    checksum, the split lists consistent with it, every validation tag covered."""
    if not os.path.exists(os.path.join(data_dir, "manifest.tsv")):
        print("corpus: no manifest in %s" % data_dir)
        return 77
    head, rows = read_manifest(data_dir)
    bad = []
    if head != list(COLUMNS):
        bad.append("manifest columns differ from %s" % " ".join(COLUMNS))
    for r in rows:
        p = os.path.join(data_dir, r["file"])
        if not os.path.exists(p):
            bad.append("missing " + r["file"])
            continue
        if os.path.getsize(p) != int(r["bytes"]):
            bad.append("size differs: " + r["file"])
        elif hashlib.sha256(open(p, "rb").read()).hexdigest() != r["sha256"]:
            bad.append("checksum differs: " + r["file"])
        limit = NOISE_MAX if r["category"] == "scene" else NOISE_MAX_TEXTURE
        limit = SOURCE[r["package"]].get("noise_max", limit) if r["package"] in SOURCE else limit
        if (limit is not None and float(r["noise_floor"]) > limit) or int(r["factor"]) < 1:
            bad.append("not cleaned: " + r["file"])
    for sp in ("train", "val"):
        want = sorted(r["file"] for r in rows if r["split"] == sp)
        have = sorted(l.strip() for l in open(os.path.join(data_dir, sp + ".txt")) if l.strip())
        if want != have:
            bad.append(sp + ".txt disagrees with the manifest")
    if len({r["file"] for r in rows}) != len(rows):
        bad.append("duplicate file names")
    tags = {r["tag"] for r in rows}
    for t in VAL_TAGS:
        if t in tags and not any(r["tag"] == t and r["split"] == "val" for r in rows):
            # not a failure: the stable split may leave a tag whose images were all trained on
            print("corpus: check: warning: tag %s has no validation image (%d training images)"
                  % (t, sum(r["tag"] == t for r in rows)))
    for b in bad[:20]:
        print("corpus: check: " + b)
    print("corpus: check: %d images, %d problems" % (len(rows), len(bad)))
    return 1 if bad else 0


def cmd_selftest():
    """Assertions on synthetic data; prints one line per check, returns the number of failures."""
    import numpy as np
    from PIL import Image
    rng = np.random.default_rng(1)
    fails = 0

    def check(name, ok, detail):
        nonlocal fails
        fails += not ok
        print("%s %s (%s)" % ("ok  " if ok else "FAIL", name, detail))

    noisy = np.full((512, 512, 3), 128.0, np.float32) + rng.normal(0, 10, (512, 512, 3)).astype(np.float32)
    s = noise_sigma(noisy)
    check("noise_sigma reads Gaussian noise", abs(s - 10) < 0.4, "sigma 10 -> %.3f" % s)
    f = noise_floor(noisy)
    check("noise_floor reads Gaussian noise", abs(f - 10) < 0.5, "sigma 10 -> %.3f" % f)
    ramp = np.tile(np.linspace(0, 255, 256, dtype=np.float32)[None, :, None], (256, 1, 3))
    check("noise_sigma of a clean ramp is ~0", noise_sigma(ramp) < 0.05, "%.4f" % noise_sigma(ramp))
    blocks = np.kron(rng.uniform(0, 255, (32, 32)), np.ones((8, 8))) + rng.normal(0, 2, (256, 256))
    b8, b7 = blockiness(blocks, 8), blockiness(blocks, 7)
    check("blockiness sees 8x8 blocks", b8 > 3 and abs(b7 - 1) < 0.5, "period 8: %.2f, period 7: %.2f" % (b8, b7))
    img = Image.fromarray(rng.integers(0, 256, (64, 96, 3), dtype=np.uint8)).resize((384, 256), Image.BILINEAR)
    small = img.reduce(2)
    ref = np.asarray(img, np.float32).reshape(128, 2, 192, 2, 3).mean(axis=(1, 3))
    err = np.abs(np.asarray(small, np.float32) - ref).max()
    check("reduce(2) is the 2x2 box average", err <= 0.5 + 1e-6, "max |diff| %.2f" % err)
    d = bin(dhash(img.convert("L")) ^ dhash(img.resize((192, 128), Image.LANCZOS).convert("L"))).count("1")
    o = bin(dhash(img.convert("L")) ^ dhash(img.transpose(Image.FLIP_LEFT_RIGHT).convert("L"))).count("1")
    check("dHash: same picture at two sizes, not its mirror", d <= DHASH_DIST < o, "%d and %d bits" % (d, o))
    stanzas, first = parse_copyright("Files: *\nCopyright: A\nLicense: GPL-2+\n\n"
                                     "Files: images/land/*\nCopyright: B\nLicense: public-domain\n\n"
                                     "Files: images/land/x-sfiera*\nCopyright: C\nLicense: CC-BY-SA-4.0\n")
    got = [licence_for("usr/share/p/images/land/" + n, stanzas, first) for n in ("a.jpg", "x-sfiera@2x.jpg")]
    got.append(licence_for("usr/share/p/other.png", stanzas, first))
    want = [("public-domain", "B"), ("CC-BY-SA-4.0", "C"), ("GPL-2+", "A")]
    check("DEP-5: the last matching stanza wins", got == want, str(got))
    rcc = make_rcc({"a/b.txt": b"hello", "a/c/d.bin": b"\0\1\2"})
    got = sorted(rcc_files(rcc))
    check("rcc: files and paths", got == [("a/b.txt", b"hello"), ("a/c/d.bin", b"\0\1\2")], str(got))
    def corpus(pkgs, previous=None, n=20):
        rows = [dict(file="textures/%s/%d.png" % (p, i), package=p, source="%d.jpg" % i,
                     tag=("stone", "wood", "fur")[i % 3] if i % 5 == 3 else "x")
                for p in pkgs for i in range(n)]
        uncovered = assign_split(rows, previous)
        return {r["file"]: r["split"] for r in rows}, uncovered, rows

    def moved(a, b):
        return sum(a[f] != b[f] for f in set(a) & set(b))

    full, unc, rows = corpus("pqr")
    check("split: every tag has a validation image", not unc and all(
        any(r["split"] == "val" and r["tag"] == t for r in rows) for t in ("stone", "wood", "fur")),
          "%d val of %d" % (sum(v == "val" for v in full.values()), len(full)))
    fewer = corpus("pr")[0]
    plain = [r["file"] for r in rows if r["tag"] == "x"]  # the rule alone
    check("split: a build with one package fewer splits the rule's images alike",
          all(full[f] == fewer[f] for f in plain if f in fewer), "%d moved" % moved(full, fewer))
    small = corpus("p")[0]
    grown = corpus("pqr", small)[0]
    check("split: adding packages moves no image of the previous corpus", moved(small, grown) == 0,
          "%d of %d common images moved" % (moved(small, grown), len(small)))
    shrunk = corpus("pr", full)[0]
    check("split: removing a package moves no image either", moved(full, shrunk) == 0,
          "%d moved" % moved(full, shrunk))
    trained = {f: "train" for f in corpus("q")[0]}  # a previous corpus with no validation image
    again, unc, _ = corpus("q", trained)
    check("split: a tag whose images were all trained on stays uncovered, nothing moves",
          moved(trained, again) == 0 and sorted(unc) == ["fur", "stone", "wood"], "uncovered %s" % unc)
    src = dict(factor=1, factors=[(r"big", 2)])
    check("factors: a per-file rule overrides the source's factor",
          (factor_of(src, "a/big.jpg"), factor_of(src, "a/small.jpg")) == (2, 1), "big 2, small 1")
    selftest_add(check, rng)
    return fails


def selftest_add(check, rng):
    """cmd_add on small synthetic corpora: what it adds, and what it refuses untouched (CHECK counts)."""
    import contextlib
    import tempfile
    import numpy as np
    from PIL import Image
    before = 0

    def corpus(d, imgs):  # imgs: [(name, split, array)]
        rows = []
        for name, split, a in imgs:
            f = "photos/p/%s.png" % name
            os.makedirs(os.path.join(d, "photos/p"), exist_ok=True)
            Image.fromarray(a).save(os.path.join(d, f))
            raw = open(os.path.join(d, f), "rb").read()
            rows.append(dict(file=f, package="p", version="1", suite="bookworm", licence="CC0-1.0", credit="x",
                             category="scene", tag="text", width=a.shape[1], height=a.shape[0], bytes=len(raw),
                             split=split, sha256=hashlib.sha256(raw).hexdigest(), source=name + ".jpg",
                             src_width=a.shape[1], src_height=a.shape[0], factor=1, noise=0.5, noise_floor=0.5,
                             blockiness=1.0))
        write_outputs(d, rows, [], [])
        open(os.path.join(d, "rejects.tsv"), "w").write("package\tsource\treason\n")

    def img():
        return rng.integers(0, 256, (64, 96, 3), dtype=np.uint8)

    a, b, c, dup = img(), img(), img(), img()
    with tempfile.TemporaryDirectory() as t, contextlib.redirect_stdout(io.StringIO()):
        data, part = os.path.join(t, "data"), os.path.join(t, "part")
        corpus(data, [("a", "train", a), ("b", "val", b), ("d", "train", dup)])
        train = open(os.path.join(data, "train.txt"), "rb").read()
        train_ino = os.stat(os.path.join(data, "train.txt")).st_ino
        manifest = open(os.path.join(data, "manifest.tsv"), "rb").read()
        corpus(part, [("b", "val", b), ("t", "train", c)])
        refused_train = cmd_add(data, part) == 1 and open(os.path.join(data, "manifest.tsv"), "rb").read() == manifest
        near = np.asarray(Image.fromarray(dup).resize((192, 128), Image.BILINEAR))
        corpus(part, [("n", "val", near)])
        refused_dup = cmd_add(data, part) == 1 and not os.path.exists(os.path.join(data, "photos/p/n.png"))
        corpus(part, [("b", "val", b), ("c", "val", c)])
        added = cmd_add(data, part) == 0
        val = open(os.path.join(data, "val.txt")).read().split()
        same_train = open(os.path.join(data, "train.txt"), "rb").read() == train and \
            os.stat(os.path.join(data, "train.txt")).st_ino == train_ino
        _, rows = read_manifest(data)
        before = len(rows)
    check("add: a new training image is refused, nothing written", refused_train, "manifest unchanged")
    check("add: a near-duplicate of an image of the corpus is refused", refused_dup, "not copied")
    check("add: a new validation image joins val.txt and the manifest, train.txt untouched (bytes, inode)",
          added and val == ["photos/p/b.png", "photos/p/c.png"] and same_train and before == 4,
          "val %s, %d rows" % (val, before))


def cmd_relabel(data_dir, sheets):
    """Tags (and so the validation picks) from the current rules without decoding any image: what
    a rebuild with the same sources would write.  The split honours WPRIOR_CORPUS_SPLIT_FROM, else
    this corpus itself (then no image changes split)."""
    head, rows = read_manifest(data_dir)
    prev_from = os.environ.get("WPRIOR_CORPUS_SPLIT_FROM") or data_dir
    previous = previous_split(prev_from)
    changed = 0
    for r in rows:
        tag = tag_of(SOURCE[r["package"]], r["source"], r["file"]) if r["package"] in SOURCE else r["tag"]
        changed += tag != r["tag"]
        r["tag"] = tag
    for t in assign_split(rows, previous):
        note("warning: tag %s has no validation image (all its images are in the previous training split)" % t)
    for r in rows:  # write_outputs formats floats; the manifest's values are strings already
        r["src_width"], r["src_height"] = int(r["src_width"]), int(r["src_height"])
    write_outputs(data_dir, rows, read_rejects(data_dir), [])
    for pkg in sorted({r["package"] for r in rows}):
        contact_sheet([r for r in rows if r["package"] == pkg], data_dir, os.path.join(sheets, "corpus-%s.jpg" % pkg), pkg)
    note("relabel: %d tags changed; split from %s" % (changed, prev_from))


def read_rejects(data_dir):
    with open(os.path.join(data_dir, "rejects.tsv"), encoding="utf-8") as f:
        f.readline()
        return [tuple(l.rstrip("\n").split("\t", 2)) for l in f if l.strip()]


def cmd_compare(old_dir, new_dir):
    """How many images of the corpus OLD_DIR changed split in NEW_DIR (the stability rule)."""
    old, new = previous_split(old_dir), previous_split(new_dir)
    common = set(old) & set(new)
    moved = sorted(f for f in common if old[f] != new[f])
    for f in moved[:20]:
        print("corpus: compare: moved %s -> %s: %s" % (old[f], new[f], f))
    print("corpus: compare: %d images in both, %d moved (train->val %d, val->train %d), %d gone, %d new"
          % (len(common), len(moved), sum(old[f] == "train" for f in moved), sum(old[f] == "val" for f in moved),
             len(set(old) - set(new)), len(set(new) - set(old))))
    return 1 if moved else 0


def cmd_add(data_dir, part_dir):
    """Bring into DATA_DIR the validation images of PART_DIR that it lacks, without rebuilding it.
    PART_DIR is a corpus of a few packages (WPRIOR_CORPUS_PACKAGES) split from DATA_DIR
    (WPRIOR_CORPUS_SPLIT_FROM).  Refused, with nothing written: a new training image (a run may
    be reading train.txt), an image of both whose split or checksum differ, a file whose checksum
    is not its manifest's, a near-duplicate (dHash) of an image of DATA_DIR.  train.txt and the
    other training lists are left untouched (write_text keeps a file that holds its text)."""
    import shutil
    from PIL import Image
    _, rows = read_manifest(data_dir)
    _, part = read_manifest(part_dir)
    have = {r["file"]: r for r in rows}
    new = [r for r in part if r["file"] not in have]
    bad = ["%s: split or checksum differs from %s" % (r["file"], data_dir) for r in part
           if r["file"] in have and (r["split"], r["sha256"]) != (have[r["file"]]["split"], have[r["file"]]["sha256"])]
    bad += ["%s: a training image" % r["file"] for r in new if r["split"] != "val"]
    for r in new:
        if hashlib.sha256(open(os.path.join(part_dir, r["file"]), "rb").read()).hexdigest() != r["sha256"]:
            bad.append("%s: checksum differs from its manifest" % r["file"])

    def hash_of(d, f):
        with Image.open(os.path.join(d, f)) as im:
            return dhash(im.convert("L"))

    if new and not bad:
        old = [(r["file"], hash_of(data_dir, r["file"])) for r in rows]
        for r in new:
            h = hash_of(part_dir, r["file"])
            f, d = min(((f, bin(h ^ g).count("1")) for f, g in old), key=lambda t: t[1], default=("", 64))
            note("add: %s: nearest image %s, %d bits apart" % (r["file"], f, d))
            if d <= DHASH_DIST:
                bad.append("%s: a near-duplicate of %s" % (r["file"], f))
    for b in bad:
        print("corpus: add: refused: " + b)
    if bad:
        return 1
    train = os.path.join(data_dir, "train.txt")
    train_before = (open(train, "rb").read(), os.stat(train).st_ino, os.stat(train).st_mtime_ns)
    for r in new:
        dst = os.path.join(data_dir, r["file"])
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(os.path.join(part_dir, r["file"]), dst + ".tmp")
        os.replace(dst + ".tmp", dst)
    pkgs = {r["package"] for r in new}
    rejects = sorted(set(read_rejects(data_dir)) | {t for t in read_rejects(part_dir) if t[0] in pkgs})
    rows += new
    for r in rows:
        r["src_width"], r["src_height"] = int(r["src_width"]), int(r["src_height"])
    write_outputs(data_dir, rows, rejects, [])
    if (open(train, "rb").read(), os.stat(train).st_ino, os.stat(train).st_mtime_ns) != train_before:
        print("corpus: add: error: train.txt was rewritten (a bug)")
        return 1
    stamp = os.path.join(data_dir, ".fetch-stamp")
    if os.path.exists(stamp) and new:
        lines = open(stamp).read().splitlines()
        head = [l for l in lines if not l.startswith("package ")]
        pk = set(l for l in lines if l.startswith("package ")) | {
            "package %s %s %s" % (r["package"], r["version"], r["suite"]) for r in new}
        with open(stamp + ".tmp", "w") as f:
            f.write("\n".join(head + sorted(pk)) + "\n")
        os.replace(stamp + ".tmp", stamp)
    note("add: %d validation images added to %s (%d already there); the training lists untouched"
         % (len(new), data_dir, len(part) - len(new)))
    return 0


def make_rcc(files):
    """A Qt resource bundle (format 2, uncompressed) of FILES {path: bytes}, for the self-test."""
    tree = {}
    for path, data in files.items():
        node = tree
        parts = path.split("/")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = data
    names, data_blob, nodes = b"", b"", []

    def name_off(n):
        nonlocal names
        off = len(names)
        enc = n.encode("utf-16-be")
        names += struct.pack(">HI", len(n), 0) + enc
        return off

    # breadth-first, as rcc writes it: the children of a directory are consecutive
    queue = [("", tree)]
    nodes.append(None)
    pending = [(0, "", tree)]
    while pending:
        idx, nm, node = pending.pop(0)
        noff = name_off(nm) if idx else 0
        if isinstance(node, dict):
            first = len(nodes)
            keys = sorted(node)
            nodes.extend([None] * len(keys))
            nodes[idx] = struct.pack(">IHII", noff, 2, len(keys), first) + b"\0" * 8
            for k, key in enumerate(keys):
                pending.append((first + k, key, node[key]))
        else:
            off = len(data_blob)
            data_blob += struct.pack(">I", len(node)) + node
            nodes[idx] = struct.pack(">IHHHI", noff, 0, 0, 0, off) + b"\0" * 8
    del queue
    tree_blob = b"".join(nodes)
    head = 20
    return (b"qres" + struct.pack(">4I", 2, head, head + len(tree_blob), head + len(tree_blob) + len(data_blob))
            + tree_blob + data_blob + names)


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "packages":
        cmd_packages(args)
    elif cmd == "prepare" and len(args) >= 4:
        cmd_prepare(args[0], args[1], args[2], args[3], args[4:])
    elif cmd == "check" and len(args) == 1:
        return cmd_check(args[0])
    elif cmd == "relabel" and len(args) == 2:
        cmd_relabel(args[0], args[1])
    elif cmd == "compare" and len(args) == 2:
        return cmd_compare(args[0], args[1])
    elif cmd == "add" and len(args) == 2:
        return cmd_add(args[0], args[1])
    elif cmd == "summary" and len(args) == 1:
        cmd_summary(args[0])
    elif cmd == "sheets" and len(args) == 2:  # redraw the contact sheets of a corpus
        _, rows = read_manifest(args[0])
        for pkg in sorted({r["package"] for r in rows}):
            contact_sheet([r for r in rows if r["package"] == pkg], args[0],
                          os.path.join(args[1], "corpus-%s.jpg" % pkg), pkg)
    elif cmd == "selftest":
        return 1 if cmd_selftest() else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
