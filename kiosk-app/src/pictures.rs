//! The menu's pictures: read and decoded off the UI thread, made Slint images when a screen
//! first shows them, and drawn into pixels at the size they are shown, once per size.
//!
//! Slint's software renderer draws an SVG from its shapes again on every frame that shows it,
//! and a full repaint of the menu screen shows seven of them (the cards and the category
//! rail). Drawn once into pixels the size of its box, on the colour it lies on, a picture is
//! only copied: opaque pixels are copied without blending, in three bytes a pixel instead of
//! four. The pictures drawn last are kept, up to a budget, so that a screen shown again draws
//! none.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};

use i_slint_core::graphics::{ImageInner, SharedImageBuffer, euclid};
use slint::{Color, ComponentHandle, Image, Rgb8Pixel, SharedPixelBuffer};

use crate::ui::{KioskWindow, Pictures};

/// A menu image read off the UI thread: SVG stays source (its shapes are read on the UI
/// thread, where Slint's images live), PNG and JPEG are decoded to pixels.
#[derive(Debug)]
pub enum DecodedImage {
    Svg(Vec<u8>),
    Pixels(slint::SharedPixelBuffer<slint::Rgba8Pixel>),
    Unreadable,
}

pub fn decode_image(path: &str, bytes: Vec<u8>) -> DecodedImage {
    if path.to_ascii_lowercase().ends_with(".svg") {
        return DecodedImage::Svg(bytes);
    }
    match image::load_from_memory(&bytes) {
        Ok(decoded) => {
            let rgba = decoded.into_rgba8();
            DecodedImage::Pixels(slint::SharedPixelBuffer::clone_from_slice(rgba.as_raw(), rgba.width(), rgba.height()))
        }
        Err(error) => {
            log::warn!("menu image {path} cannot be decoded: {error}");
            DecodedImage::Unreadable
        }
    }
}

impl DecodedImage {
    fn into_image(self) -> Option<Image> {
        match self {
            DecodedImage::Svg(bytes) => {
                Image::load_from_svg_data(&bytes).map_err(|error| log::warn!("a menu SVG cannot be read: {error}")).ok()
            }
            DecodedImage::Pixels(buffer) => Some(Image::from_rgba8(buffer)),
            DecodedImage::Unreadable => None,
        }
    }
}

/// The menu's images by path. One becomes a Slint image the first time a screen asks for it
/// and stays that image (screens compare their rows' images by identity), so that the start
/// and the memory pay only for the pictures shown: the first screen of the menu shows seven
/// of the demo's thirty-seven.
#[derive(Debug, Default)]
pub struct MenuImages(RefCell<HashMap<String, MenuImage>>);

#[derive(Debug)]
enum MenuImage {
    Read(DecodedImage),
    Shown(Option<Image>),
}

impl MenuImages {
    /// Those of a new menu, in place of the last one's.
    pub fn replace(&self, images: Vec<(String, DecodedImage)>) {
        *self.0.borrow_mut() = images.into_iter().map(|(path, image)| (path, MenuImage::Read(image))).collect();
    }

    /// The image at `path` in the menu, if it has one that can be shown.
    pub fn get(&self, path: &str) -> Option<Image> {
        let mut images = self.0.borrow_mut();
        let image = images.get_mut(path)?;
        match image {
            MenuImage::Shown(shown) => shown.clone(),
            MenuImage::Read(read) => {
                let shown = std::mem::replace(read, DecodedImage::Unreadable).into_image();
                *image = MenuImage::Shown(shown.clone());
                shown
            }
        }
    }
}

/// About three screens of pictures: the menu screen in portrait holds 1 MiB of them, the
/// sheet and the suggestion after it less.
const BUDGET_BYTES: usize = 3 << 20;

/// Answers the screens' `Pictures.sized` for this window.
pub fn connect(ui: &KioskWindow) {
    let window = ui.as_weak();
    let pictures = RefCell::new(SizedPictures::default());
    ui.global::<Pictures>().on_sized(move |source, width, height, backdrop| {
        let scale = window.upgrade().map_or(1.0, |ui| ui.window().scale_factor());
        let size = (physical(width, scale), physical(height, scale));
        pictures.borrow_mut().sized(&Wanted { source, size, backdrop })
    });
}

#[allow(
    clippy::float_arithmetic,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "a length on screen, in whole pixels"
)]
fn physical(logical: f32, scale: f32) -> u32 {
    (logical * scale).round().max(0.0) as u32
}

/// A picture as a screen asks for it: which, the box it fits in (physical pixels), and the
/// colour under it.
#[derive(Clone, Debug, PartialEq)]
struct Wanted {
    /// Slint's images are equal when they are the same picture, which the kept one holds on
    /// to, so it cannot be mistaken for another read later.
    source: Image,
    size: (u32, u32),
    backdrop: Color,
}

#[derive(Debug, Default)]
struct SizedPictures {
    /// Least recently asked for first.
    drawn: VecDeque<Drawn>,
    bytes: usize,
}

#[derive(Debug)]
struct Drawn {
    wanted: Wanted,
    pixels: Image,
    bytes: usize,
}

impl SizedPictures {
    /// The picture drawn to fit in its box, on its backdrop when that is opaque. A picture that
    /// is already pixels (PNG, JPEG) is given back as it is: the renderer only samples it.
    fn sized(&mut self, wanted: &Wanted) -> Image {
        let inner: &ImageInner = (&wanted.source).into();
        let (width, height) = wanted.size;
        if !matches!(inner, ImageInner::Svg(_)) || width == 0 || height == 0 {
            return wanted.source.clone();
        }
        let kept = self.drawn.iter().position(|drawn| drawn.wanted == *wanted);
        if let Some(drawn) = kept.and_then(|at| self.drawn.remove(at)) {
            let pixels = drawn.pixels.clone();
            self.drawn.push_back(drawn);
            return pixels;
        }
        let Some(buffer) = inner.render_to_buffer(Some(euclid::size2(width, height))) else {
            return wanted.source.clone();
        };
        let (pixels, bytes) = on_backdrop(buffer, wanted.backdrop);
        self.drawn.push_back(Drawn { wanted: wanted.clone(), pixels: pixels.clone(), bytes });
        self.bytes += bytes;
        while self.bytes > BUDGET_BYTES && self.drawn.len() > 1 {
            if let Some(oldest) = self.drawn.pop_front() {
                self.bytes -= oldest.bytes;
            }
        }
        pixels
    }

    /// How many pictures are kept drawn, and their bytes.
    #[cfg(test)]
    fn kept(&self) -> (usize, usize) {
        (self.drawn.len(), self.bytes)
    }

    #[cfg(test)]
    fn holds(&self, wanted: &Wanted) -> bool {
        self.drawn.iter().any(|drawn| drawn.wanted == *wanted)
    }
}

/// The pixels laid on an opaque backdrop, as opaque pixels, and their bytes; left with their
/// transparency on any other.
fn on_backdrop(buffer: SharedImageBuffer, backdrop: Color) -> (Image, usize) {
    let (pixels, premultiplied) = match buffer {
        SharedImageBuffer::RGB8(pixels) => {
            let bytes = pixels.as_bytes().len();
            return (Image::from_rgb8(pixels), bytes);
        }
        SharedImageBuffer::RGBA8(pixels) => (pixels, false),
        SharedImageBuffer::RGBA8Premultiplied(pixels) => (pixels, true),
    };
    if backdrop.alpha() < u8::MAX {
        let bytes = pixels.as_bytes().len();
        let image = if premultiplied { Image::from_rgba8_premultiplied(pixels) } else { Image::from_rgba8(pixels) };
        return (image, bytes);
    }
    let mut flat = SharedPixelBuffer::<Rgb8Pixel>::new(pixels.width(), pixels.height());
    for (out, pixel) in flat.make_mut_slice().iter_mut().zip(pixels.as_slice()) {
        let alpha = u16::from(pixel.a);
        // Premultiplied, a channel is at most its alpha, so the sum stays within a byte.
        let over = |channel: u8, under: u8| {
            let channel = if premultiplied { u16::from(channel) } else { u16::from(channel) * alpha / 255 };
            u8::try_from(channel + u16::from(under) * (255 - alpha) / 255).unwrap_or(u8::MAX)
        };
        *out = Rgb8Pixel {
            r: over(pixel.r, backdrop.red()),
            g: over(pixel.g, backdrop.green()),
            b: over(pixel.b, backdrop.blue()),
        };
    }
    let bytes = flat.as_bytes().len();
    (Image::from_rgb8(flat), bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_menu_image_is_made_once_when_first_asked_for_and_the_same_image_after() {
        let images = MenuImages::default();
        images.replace(vec![
            ("square.svg".to_owned(), decode_image("square.svg", SQUARE.as_bytes().to_vec())),
            ("broken.svg".to_owned(), decode_image("broken.svg", b"<svg".to_vec())),
            ("broken.png".to_owned(), decode_image("broken.png", b"not a png".to_vec())),
        ]);
        let first = images.get("square.svg").expect("an image");
        assert_eq!(first.size().width, 100);
        assert!(images.get("square.svg") == Some(first), "the same image, not one read again");
        assert!(images.get("broken.svg").is_none(), "an SVG that cannot be read is no image");
        assert!(images.get("broken.png").is_none(), "nor a PNG that cannot be decoded");
        assert!(images.get("missing.svg").is_none());
        images.replace(Vec::new());
        assert!(images.get("square.svg").is_none(), "a new menu's images replace the last one's");
    }

    const SQUARE: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100"><rect width="100" height="100" fill="#c62828"/></svg>"##;
    // A green band across the middle of a wide picture, nothing above or below it.
    const WIDE: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 100"><rect y="25" width="200" height="50" fill="#2e7d32"/></svg>"##;
    const CREAM: Color = Color::from_rgb_u8(0xf7, 0xf2, 0xea);

    fn svg(text: &str) -> Image {
        Image::load_from_svg_data(text.as_bytes()).expect("a valid SVG")
    }

    fn wanted(source: &Image, side: u32) -> Wanted {
        Wanted { source: source.clone(), size: (side, side), backdrop: CREAM }
    }

    fn pixel(image: &Image, x: usize, y: usize) -> [u8; 4] {
        let pixels = image.to_rgba8().expect("pixels");
        let pixel = pixels.as_slice()[y * pixels.width() as usize + x];
        [pixel.r, pixel.g, pixel.b, pixel.a]
    }

    #[test]
    fn an_svg_is_drawn_to_fit_its_box_on_its_backdrop_as_opaque_pixels() {
        let mut pictures = SizedPictures::default();
        let drawn = pictures.sized(&wanted(&svg(WIDE), 300));
        assert_eq!((drawn.size().width, drawn.size().height), (300, 150), "the picture keeps its shape");
        assert_eq!(pixel(&drawn, 150, 75), [0x2e, 0x7d, 0x32, 0xff], "the shapes are drawn");
        assert_eq!(pixel(&drawn, 150, 10), [0xf7, 0xf2, 0xea, 0xff], "the backdrop shows where the picture is empty");
        assert_eq!(pictures.kept(), (1, 300 * 150 * 3), "three bytes a pixel");
    }

    #[test]
    fn on_a_backdrop_that_is_not_opaque_the_picture_keeps_its_transparency() {
        let mut pictures = SizedPictures::default();
        let drawn = pictures.sized(&Wanted { backdrop: Color::from_argb_u8(0x80, 0, 0, 0), ..wanted(&svg(WIDE), 300) });
        assert_eq!(pixel(&drawn, 150, 75), [0x2e, 0x7d, 0x32, 0xff]);
        assert_eq!(pixel(&drawn, 150, 10)[3], 0, "transparent");
        assert_eq!(pictures.kept(), (1, 300 * 150 * 4));
    }

    #[test]
    fn a_picture_asked_again_as_it_was_is_not_drawn_again() {
        let mut pictures = SizedPictures::default();
        let source = svg(SQUARE);
        pictures.sized(&wanted(&source, 120));
        pictures.sized(&wanted(&source, 120));
        assert_eq!(pictures.kept(), (1, 120 * 120 * 3), "drawn once");
        let larger = pictures.sized(&wanted(&source, 240));
        assert_eq!(larger.size().width, 240, "another size is drawn at that size");
        pictures.sized(&Wanted { backdrop: Color::from_rgb_u8(0xfb, 0xe3, 0xd6), ..wanted(&source, 120) });
        assert_eq!(pictures.kept().0, 3, "on another backdrop, drawn again");
        pictures.sized(&wanted(&svg(SQUARE), 120));
        assert_eq!(pictures.kept().0, 4, "another picture of the same size is drawn on its own");
    }

    #[test]
    fn pixels_an_empty_box_or_an_empty_image_are_given_back_as_they_are() {
        let mut pictures = SizedPictures::default();
        let bitmap = Image::from_rgb8(SharedPixelBuffer::new(4, 4));
        assert!(pictures.sized(&wanted(&bitmap, 100)) == bitmap);
        let source = svg(SQUARE);
        assert!(pictures.sized(&Wanted { size: (0, 100), ..wanted(&source, 100) }) == source);
        assert_eq!(pictures.sized(&wanted(&Image::default(), 100)).size().width, 0);
        assert_eq!(pictures.kept(), (0, 0));
    }

    #[test]
    fn the_pictures_kept_stay_within_the_budget_dropping_the_least_recently_asked_for() {
        let mut pictures = SizedPictures::default();
        let asked: Vec<Wanted> = (0..8).map(|_| wanted(&svg(SQUARE), 700)).collect();
        // 700 × 700 × 3 bytes: 1.4 MiB each, so the budget holds two.
        for wanted in &asked {
            pictures.sized(wanted);
        }
        let (kept, bytes) = pictures.kept();
        assert_eq!(kept, 2);
        assert!(bytes <= BUDGET_BYTES, "{bytes} bytes kept");
        assert!(pictures.holds(&asked[6]) && pictures.holds(&asked[7]));
        pictures.sized(&asked[6]);
        pictures.sized(&asked[0]);
        assert!(pictures.holds(&asked[6]), "asked for again, so kept");
        assert!(pictures.holds(&asked[0]));
        assert!(!pictures.holds(&asked[7]), "the least recently asked for is dropped");
        assert_eq!(pictures.kept(), (kept, bytes));
    }
}
